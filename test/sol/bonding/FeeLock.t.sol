// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BondingManager} from "../../../contracts/bonding/BondingManager.sol";
import {Fixture, Segmint} from "../utils/Fixture.sol";
import {Test} from "../utils/Test.sol";

/// @title The fee lock: fees settled into a record in round r can be withdrawn from round
/// r + lock on, and at the latest from round r + 2 * lock - 2, however settlements spread over
/// the rounds; the lock follows the TicketBroker's unlock period.
contract FeeLockTest is Test {
    uint256 private constant _ROUNDS = 24;

    Segmint internal s;
    address internal orch = address(0x0C1);

    function setUp() public {
        s = Fixture.deploy();
        Fixture.fund(s, orch, 10_000 * Fixture.TOKEN);
        // Fee share 0: every fee credited to the pool is the orchestrator's own cut.
        Fixture.register(s, orch, 0, 0, 1_000 * Fixture.TOKEN);
        // The fees credited below stand for tickets paid: the TicketBroker holds them.
        s.token.transfer(address(s.broker), _ROUNDS * 100 * Fixture.TOKEN);
    }

    /// @dev Random fees settled in random rounds, checked every round against a model of each
    /// settlement's round: nothing unlocks early, nothing stays locked past the bound, and what
    /// is withdrawable, locked and unsettled adds up to all the fees.
    function testFuzzFeesUnlockWithinTheirWindow(uint256 seed, uint256 lockSeed) public {
        uint256 lock = bound(lockSeed, 3, 5);
        s.broker.setUnlockPeriod(lock);
        assertEq(s.bonding.feeLockRounds(), lock, "fee lock != unlock period");
        uint256 start = s.rounds.currentRound();
        uint256[_ROUNDS] memory settled;
        uint256 withdrawn;
        for (uint256 i = 0; i < _ROUNDS; ++i) {
            uint256 draw = uint256(keccak256(abi.encode(seed, i)));
            if (draw % 3 != 0) {
                // With a fee share of 0 the whole credit is the orchestrator's, settled by its claim.
                settled[i] = 1 + (draw >> 8) % (100 * Fixture.TOKEN);
                _creditAndSettle(settled[i]);
            }
            uint256 mustBeUnlocked;
            uint256 mayBeUnlocked;
            uint256 all;
            for (uint256 j = 0; j <= i; ++j) {
                all += settled[j];
                if (j + 2 * lock - 2 <= i) mustBeUnlocked += settled[j];
                if (j + lock <= i) mayBeUnlocked += settled[j];
            }
            BondingManager.FeeBalance memory b = s.bonding.feeBalance(orch);
            assertEq(b.unsettled, 0, "fees left unsettled");
            assertEq(b.withdrawable + b.locked + b.laterLocked + withdrawn, all, "fees do not add up");
            assertLe(b.withdrawable + withdrawn, mayBeUnlocked, "fees unlocked before the lock period");
            assertGe(b.withdrawable + withdrawn, mustBeUnlocked, "fees locked past the bound");
            if (b.withdrawable != 0 && (draw >> 4) % 2 == 0) {
                vm.prank(orch);
                s.bonding.withdrawFees(orch, b.withdrawable);
                withdrawn += b.withdrawable;
            }
            assertEq(s.rounds.currentRound(), start + i, "round");
            Fixture.nextRound(s);
        }
    }

    /// @dev A withdrawal above the unlocked fees names the round from which enough are
    /// unlocked: the first bucket's when it suffices, else the second's.
    function testLockedWithdrawalNamesTheUnlockRound() public {
        uint256 lock = Fixture.UNLOCK_PERIOD;
        uint256 r0 = s.rounds.currentRound();
        _creditAndSettle(10);
        Fixture.nextRound(s);
        _creditAndSettle(5);
        BondingManager.FeeBalance memory b = s.bonding.feeBalance(orch);
        assertEq(b.locked, 10, "first bucket");
        assertEq(b.unlockRound, r0 + lock, "first unlock round");
        assertEq(b.laterLocked, 5, "second bucket");
        assertEq(b.laterUnlockRound, r0 + 1 + lock, "second unlock round");
        vm.startPrank(orch);
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerFeesLocked.selector, 10, 0, r0 + lock));
        s.bonding.withdrawFees(orch, 10);
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerFeesLocked.selector, 11, 0, r0 + 1 + lock));
        s.bonding.withdrawFees(orch, 11);
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerInsufficientFees.selector, 16, 15));
        s.bonding.withdrawFees(orch, 16);
        vm.stopPrank();
        // Credited but not settled: pendingFees counts them, feeBalance shows them unsettled.
        vm.prank(address(s.broker));
        s.bonding.updateOrchestratorWithFees(orch, 7);
        assertEq(s.bonding.feeBalance(orch).unsettled, 7, "unsettled fees");
        assertEq(s.bonding.pendingFees(orch), 22, "pendingFees counts every fee");
        assertEq(s.bonding.delegatorInfo(orch).fees, 22, "delegatorInfo counts every fee");

        while (s.rounds.currentRound() < r0 + lock) {
            Fixture.nextRound(s);
        }
        assertEq(s.bonding.feeBalance(orch).withdrawable, 10, "first bucket unlocked");
        // The withdrawal settles the 7 unsettled fees too: they lock from this round.
        vm.prank(orch);
        s.bonding.withdrawFees(orch, 10);
        b = s.bonding.feeBalance(orch);
        assertEq(b.laterLocked, 7, "settled by the withdrawal");
        assertEq(b.laterUnlockRound, r0 + 2 * lock, "locked from the withdrawal's round");
        Fixture.nextRound(s);
        assertEq(s.bonding.feeBalance(orch).withdrawable, 5, "second bucket unlocked");
        vm.prank(orch);
        s.bonding.withdrawFees(orch, 5);
        b = s.bonding.feeBalance(orch);
        assertEq(b.withdrawable, 0, "nothing else unlocked");
        assertEq(b.locked, 7, "the later bucket moved up");
        assertEq(b.unlockRound, r0 + 2 * lock, "with its unlock round");
    }

    /// @dev Only the TicketBroker sets the fee lock, and it does so with its unlock period.
    function testOnlyTheTicketBrokerSetsTheLock() public {
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerUnauthorizedCaller.selector, address(this)));
        s.bonding.setFeeLockRounds(1);
        assertEq(s.bonding.feeLockRounds(), Fixture.UNLOCK_PERIOD, "lock from the wiring");
        s.broker.setUnlockPeriod(7);
        assertEq(s.bonding.feeLockRounds(), 7, "lock follows the unlock period");
    }

    /// @dev An absurd lock saturates the unlock round instead of making settling revert.
    function testHugeLockSaturates() public {
        s.broker.setUnlockPeriod(type(uint32).max);
        Fixture.nextRound(s);
        assertGe(s.rounds.currentRound(), 1, "round + lock must pass 2^32 - 1");
        _creditAndSettle(3);
        assertEq(s.bonding.feeBalance(orch).unlockRound, type(uint32).max, "saturated unlock round");
    }

    function _creditAndSettle(uint256 amount) private {
        vm.prank(address(s.broker));
        s.bonding.updateOrchestratorWithFees(orch, amount);
        vm.prank(orch);
        s.bonding.claimEarnings();
    }
}
