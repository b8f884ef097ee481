// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Minter} from "../../../contracts/token/Minter.sol";
import {Token} from "../../../contracts/token/Token.sol";
import {IToken} from "../../../contracts/interfaces/IToken.sol";
import {Fixture, Segmint} from "../utils/Fixture.sol";
import {Test} from "../utils/Test.sol";

/// @title Token and Minter fuzz tests: only the Minter mints, and a round never mints more
/// than its inflation however the BondingManager splits it.
contract TokenMinterFuzzTest is Test {
    Segmint internal s;

    function setUp() public {
        s = Fixture.deploy();
    }

    function testConstructorsAndViews() public {
        Token fresh = new Token(address(this), 5);
        assertEq(fresh.minter(), address(0), "minter before setMinter");
        vm.expectRevert(abi.encodeWithSelector(Token.TokenInvalidMinter.selector, address(0)));
        fresh.setMinter(address(0));
        vm.expectRevert(Minter.MinterInvalidAddress.selector);
        new Minter(address(this), IToken(address(0)), address(1), 1);
        vm.expectRevert(Minter.MinterInvalidAddress.selector);
        new Minter(address(this), IToken(address(fresh)), address(0), 1);
        assertEq(s.minter.token(), address(s.token), "token()");
        assertEq(s.minter.bondingManager(), address(s.bonding), "bondingManager()");
        assertEq(s.minter.inflationPerRound(), Fixture.INFLATION_PER_ROUND, "inflationPerRound()");
        vm.expectRevert(abi.encodeWithSelector(Minter.MinterInvalidFraction.selector, 1, 0));
        vm.prank(address(s.bonding));
        s.minter.mintReward(1, 1, 0);
    }

    function testFuzzOnlyMinterCanMint(address caller, address to, uint256 amount) public {
        vm.assume(caller != address(s.minter));
        vm.expectRevert(abi.encodeWithSelector(Token.TokenUnauthorizedMinter.selector, caller));
        vm.prank(caller);
        s.token.mint(to, amount);
        assertEq(s.token.totalSupply(), Fixture.INITIAL_SUPPLY, "supply changed");
    }

    function testFuzzOnlyBondingManagerCanMintReward(address caller, uint256 round, uint256 numerator) public {
        vm.assume(caller != address(s.bonding));
        vm.expectRevert(abi.encodeWithSelector(Minter.MinterUnauthorizedCaller.selector, caller));
        vm.prank(caller);
        s.minter.mintReward(round, numerator, 1);
    }

    function testFuzzMinterIsSetOnce(address other) public {
        vm.expectRevert(abi.encodeWithSelector(Token.TokenMinterAlreadySet.selector, address(s.minter)));
        s.token.setMinter(other);
    }

    /// @dev Whatever fractions are asked for within one round, the round mints at most its
    /// inflation, each call at most its fraction, and the next round starts afresh.
    function testFuzzRoundMintsAtMostInflation(uint256[6] memory numerators, uint256 denominator) public {
        denominator = bound(denominator, 1, type(uint128).max);
        uint256 inflation = Fixture.INFLATION_PER_ROUND;
        uint256 total;
        for (uint256 i = 0; i < numerators.length; ++i) {
            uint256 numerator = bound(numerators[i], 0, denominator);
            vm.prank(address(s.bonding));
            uint256 minted = s.minter.mintReward(7, numerator, denominator);
            assertLe(minted, (inflation * numerator) / denominator, "minted more than the fraction");
            total += minted;
        }
        assertLe(total, inflation, "round minted beyond its inflation");
        assertEq(s.minter.mintableInRound(7), inflation - total, "mintable left");
        assertEq(s.token.balanceOf(address(s.bonding)), total, "minted to other than the BondingManager");
        assertEq(s.token.totalSupply(), Fixture.INITIAL_SUPPLY + total, "supply != initial + minted");
        assertEq(s.minter.mintableInRound(8), inflation, "next round not afresh");
    }

    /// @dev An inflation change mid-round applies from the next round that mints.
    function testFuzzInflationChangeAppliesNextRound(uint256 newInflation) public {
        newInflation = bound(newInflation, 0, type(uint104).max);
        vm.prank(address(s.bonding));
        s.minter.mintReward(3, 1, 4);
        s.minter.setInflationPerRound(newInflation);
        assertEq(s.minter.mintableInRound(3), Fixture.INFLATION_PER_ROUND - Fixture.INFLATION_PER_ROUND / 4, "current round");
        vm.prank(address(s.bonding));
        uint256 minted = s.minter.mintReward(4, 1, 1);
        assertEq(minted, newInflation, "next round's mint");
    }
}
