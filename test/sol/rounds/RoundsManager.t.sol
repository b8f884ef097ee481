// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {RoundsManager} from "../../../contracts/rounds/RoundsManager.sol";
import {Test} from "../utils/Test.sol";

/// @title RoundsManager: round arithmetic, lazy initialization, block-hash fallback, and round
/// numbers that never jump when the length changes.
contract RoundsManagerTest is Test {
    RoundsManager internal rounds;

    function setUp() public {
        vm.roll(1_000);
        rounds = new RoundsManager(address(this), 20);
    }

    function testConstructorInitializesTheDeploymentRound() public view {
        assertEq(rounds.currentRound(), 50, "round at block 1000");
        assertEq(rounds.lastInitializedRound(), 50, "deployment round initialized");
        assertTrue(rounds.currentRoundInitialized(), "initialized flag");
        assertTrue(rounds.blockHashForRound(50) != bytes32(0), "stored hash");
        assertEq(rounds.roundLength(), 20, "length");
    }

    function testInitializeIsLazyAndIdempotent() public {
        vm.roll(1_045);
        assertEq(rounds.currentRound(), 52, "round");
        assertFalse(rounds.currentRoundInitialized(), "not yet initialized");
        assertEq(rounds.blockHashForRound(52), bytes32(0), "no hash before initialization");
        assertEq(rounds.initializeRound(), 52, "initialized round");
        bytes32 hash = rounds.blockHashForRound(52);
        assertEq(hash, blockhash(1_040), "start block's hash");
        assertEq(rounds.initializeRound(), 52, "second call");
        assertEq(rounds.blockHashForRound(52), hash, "hash unchanged");
        (uint256 current, bytes32 stored) = rounds.currentRoundAndBlockHash(52);
        assertEq(current, 52, "current");
        assertEq(stored, hash, "stored");
        assertEq(rounds.blockHashForRound(51), bytes32(0), "skipped round stays uninitialized");
    }

    /// @dev More than 256 blocks after the round's start its hash is gone: the previous block's is used.
    function testOldStartBlockFallsBackToPreviousBlockHash() public {
        vm.roll(1_000 + 20 * 20 + 300);
        uint256 round = rounds.currentRound();
        rounds.initializeRound();
        assertEq(rounds.blockHashForRound(round), blockhash(block.number - 1), "fallback hash");
    }

    /// @dev At the start block itself blockhash() is zero: the previous block's hash is used.
    function testStartBlockIsCurrentBlock() public {
        vm.roll(1_060);
        rounds.initializeRound();
        assertEq(rounds.blockHashForRound(53), blockhash(1_059), "previous block's hash");
    }

    /// @dev A new length applies from the next round's start: the current round keeps its
    /// number, start and length; later rounds have the new length.
    function testFuzzSetRoundLengthKeepsNumbering(uint256 newLength, uint256 blocksLater) public {
        newLength = bound(newLength, 1, 1_000);
        blocksLater = bound(blocksLater, 0, 10_000);
        vm.roll(1_013);
        uint256 before = rounds.currentRound();
        uint256 start = rounds.currentRoundStartBlock();
        rounds.setRoundLength(newLength);
        assertEq(rounds.currentRound(), before, "round number jumped");
        assertEq(rounds.currentRoundStartBlock(), start, "start block moved");
        uint256 nextStart = start + 20;
        uint256 blockNumber = 1_013 + blocksLater;
        vm.roll(blockNumber);
        uint256 expected = blockNumber < nextStart ? before : before + 1 + (blockNumber - nextStart) / newLength;
        assertEq(rounds.currentRound(), expected, "later round");
        if (blockNumber >= nextStart) {
            assertEq(
                rounds.currentRoundStartBlock(), nextStart + ((blockNumber - nextStart) / newLength) * newLength, "start"
            );
        }
    }

    /// @dev Shortening the length below the blocks already elapsed in the current round must not
    /// make the round number jump: a jump would skip rounds, so unbonding, unlock and
    /// ticket-validity periods counted in rounds would end early. (This suite found the jump;
    /// the contract now applies a new length from the next round's start.)
    function testShorterRoundLengthDoesNotJumpRounds() public {
        vm.roll(1_013);
        uint256 before = rounds.currentRound();
        rounds.setRoundLength(2);
        assertEq(rounds.currentRound(), before, "round number jumped when the length was shortened");
        vm.roll(1_019);
        assertEq(rounds.currentRound(), before, "the current round ended early");
        vm.roll(1_020);
        assertEq(rounds.currentRound(), before + 1, "next round did not start on time");
        vm.roll(1_022);
        assertEq(rounds.currentRound(), before + 2, "the new length does not apply");
    }

    function testInvalidLengthsAndOwnerOnly() public {
        vm.expectRevert(abi.encodeWithSelector(RoundsManager.RoundsManagerInvalidRoundLength.selector, 0));
        rounds.setRoundLength(0);
        uint256 tooLong = uint256(type(uint32).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(RoundsManager.RoundsManagerInvalidRoundLength.selector, tooLong));
        rounds.setRoundLength(tooLong);
        vm.expectRevert(abi.encodeWithSelector(RoundsManager.RoundsManagerInvalidRoundLength.selector, 0));
        new RoundsManager(address(this), 0);
        vm.prank(address(0xBAD));
        vm.expectRevert(abi.encodeWithSignature("OwnableUnauthorizedAccount(address)", address(0xBAD)));
        rounds.setRoundLength(5);
    }
}
