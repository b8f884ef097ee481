// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Test} from "./Test.sol";

contract Emitter {
    event Poked(address indexed by, uint256 value);

    function poke(uint256 value) external {
        emit Poked(msg.sender, value);
    }

    function fail(uint256 value) external pure {
        revert Emitter.Failed(value);
    }

    function failBare() external pure {
        revert Emitter.Bare();
    }

    error Failed(uint256 value);
    error Bare();
}

/// @title Every cheatcode declared in Test.sol works under Hardhat's EDR (so a suite that
/// relies on one fails here first, with a clear name, if an EDR upgrade drops it).
contract CheatcodesTest is Test {
    event Poked(address indexed by, uint256 value);

    function testPrankAndStartPrank() public {
        Emitter e = new Emitter();
        vm.expectEmit(true, false, false, true);
        emit Poked(address(0xA), 1);
        vm.prank(address(0xA));
        e.poke(1);
        vm.startPrank(address(0xB));
        vm.expectEmit(true, false, false, true);
        emit Poked(address(0xB), 2);
        e.poke(2);
        vm.stopPrank();
    }

    function testRollWarpAndBlockhash() public {
        vm.roll(12_345);
        vm.warp(1_700_000_000);
        assertEq(block.number, 12_345, "roll");
        assertEq(block.timestamp, 1_700_000_000, "warp");
        assertTrue(blockhash(12_344) != bytes32(0), "rolled-over blocks have hashes");
    }

    function testSignAndAddr() public pure {
        bytes32 digest = keccak256("segmint");
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(0xA11CE, digest);
        assertEq(ecrecover(digest, v, r, s), vm.addr(0xA11CE), "sign/addr");
    }

    function testExpectRevertForms() public {
        Emitter e = new Emitter();
        vm.expectRevert(abi.encodeWithSelector(Emitter.Failed.selector, 7));
        e.fail(7);
        // The bytes4 form matches the whole revert data, so only for errors without arguments.
        vm.expectRevert(Emitter.Bare.selector);
        e.failBare();
    }

    function testFuzzAssumeAndBound(uint256 x) public pure {
        vm.assume(x != 3);
        assertTrue(x != 3, "assume");
        uint256 y = bound(x, 10, 20);
        assertGe(y, 10, "bound low");
        assertLe(y, 20, "bound high");
        assertEq(bytes(vm.toString(uint256(42))).length, 2, "toString");
    }

    function testLabel() public {
        vm.label(address(0xA), "alice");
    }
}
