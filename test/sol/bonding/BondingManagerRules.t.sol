// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BondingManager} from "../../../contracts/bonding/BondingManager.sol";
import {IMinter} from "../../../contracts/interfaces/IMinter.sol";
import {IRoundsManager} from "../../../contracts/interfaces/IRoundsManager.sol";
import {ITicketBroker} from "../../../contracts/interfaces/ITicketBroker.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Fixture, Segmint} from "../utils/Fixture.sol";
import {Test} from "../utils/Test.sol";

/// @title BondingManager rules: owner settings, every require, the active set's entry and exit,
/// and the views. (The TypeScript tests check the same reverts over JSON-RPC; these make the
/// Solidity coverage figure meaningful.)
contract BondingManagerRulesTest is Test {
    Segmint internal s;
    address internal orch = address(0x0C1);
    address internal other = address(0x0C2);
    address internal delegator = address(0x0D1);

    function setUp() public {
        s = Fixture.deploy();
        Fixture.fund(s, orch, 100_000 * Fixture.TOKEN);
        Fixture.fund(s, other, 100_000 * Fixture.TOKEN);
        Fixture.fund(s, delegator, 100_000 * Fixture.TOKEN);
        Fixture.register(s, orch, 100_000, 500_000, 1_000 * Fixture.TOKEN);
    }

    function testConstructorAndWiring() public {
        vm.expectRevert(BondingManager.BondingManagerInvalidAddress.selector);
        new BondingManager(address(this), IERC20(address(0)), s.rounds, 1, 1, 1);
        vm.expectRevert(BondingManager.BondingManagerInvalidAddress.selector);
        new BondingManager(address(this), s.token, IRoundsManager(address(0)), 1, 1, 1);
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerInvalidMinSelfStake.selector, 0));
        new BondingManager(address(this), s.token, s.rounds, 1, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerInvalidMinSelfStake.selector, uint256(1) << 96));
        new BondingManager(address(this), s.token, s.rounds, 1, 1, uint256(1) << 96);
        BondingManager fresh = new BondingManager(address(this), s.token, s.rounds, 1, 1, 5);
        assertEq(fresh.minSelfStake(), 5, "minSelfStake()");
        assertEq(fresh.minter(), address(0), "minter before wiring");
        vm.expectRevert(BondingManager.BondingManagerNotWired.selector);
        fresh.reward();
        vm.expectRevert(BondingManager.BondingManagerInvalidAddress.selector);
        fresh.setWiring(IMinter(address(0)), ITicketBroker(address(1)));
        vm.expectRevert(BondingManager.BondingManagerInvalidAddress.selector);
        fresh.setWiring(IMinter(address(1)), ITicketBroker(address(0)));
        vm.expectRevert(BondingManager.BondingManagerAlreadyWired.selector);
        s.bonding.setWiring(s.minter, ITicketBroker(address(s.broker)));

        assertEq(s.bonding.token(), address(s.token), "token()");
        assertEq(s.bonding.roundsManager(), address(s.rounds), "roundsManager()");
        assertEq(s.bonding.minter(), address(s.minter), "minter()");
        assertEq(s.bonding.ticketBroker(), address(s.broker), "ticketBroker()");
    }

    function testOwnerSettings() public {
        s.bonding.setUnbondingPeriod(9);
        assertEq(s.bonding.unbondingPeriod(), 9, "unbonding period");
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerInvalidUnbondingPeriod.selector, 0));
        s.bonding.setUnbondingPeriod(0);
        s.bonding.setMaxActiveSetSize(7);
        assertEq(s.bonding.maxActiveSetSize(), 7, "max active set size");
        vm.expectRevert(abi.encodeWithSignature("BondingManagerInvalidActiveSetSize(uint256,uint256)", 101, 1));
        s.bonding.setMaxActiveSetSize(101);
        vm.expectRevert(abi.encodeWithSignature("BondingManagerInvalidActiveSetSize(uint256,uint256)", 0, 1));
        s.bonding.setMaxActiveSetSize(0);
        vm.prank(delegator);
        vm.expectRevert(abi.encodeWithSignature("OwnableUnauthorizedAccount(address)", delegator));
        s.bonding.setUnbondingPeriod(3);
    }

    function testRegistrationRules() public {
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerInvalidFraction.selector, 1_000_001));
        vm.prank(other);
        s.bonding.setOrchestratorParams(1_000_001, 0);
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerInvalidFraction.selector, 1_000_001));
        vm.prank(other);
        s.bonding.setOrchestratorParams(0, 1_000_001);
        // A delegator with stake elsewhere cannot register.
        vm.prank(delegator);
        s.bonding.bond(10 * Fixture.TOKEN, orch);
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerDelegatedElsewhere.selector, delegator, orch));
        vm.prank(delegator);
        s.bonding.setOrchestratorParams(0, 0);
        // A registered orchestrator cannot delegate to another.
        vm.prank(other);
        s.bonding.setOrchestratorParams(0, 0);
        assertTrue(s.bonding.isRegisteredOrchestrator(other), "registered");
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerOrchestratorCannotDelegate.selector, other, orch));
        vm.prank(other);
        s.bonding.bond(1, orch);
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerNotOrchestrator.selector, delegator));
        vm.prank(other);
        s.bonding.bond(1, delegator);
        vm.expectRevert(BondingManager.BondingManagerZeroAmount.selector);
        vm.prank(delegator);
        s.bonding.bond(0, orch);
    }

    function testStakeRules() public {
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerNotBonded.selector, delegator));
        vm.prank(delegator);
        s.bonding.unbond(1);
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerNotBonded.selector, delegator));
        vm.prank(delegator);
        s.bonding.claimEarnings();
        vm.prank(delegator);
        s.bonding.bond(10 * Fixture.TOKEN, orch);
        vm.expectRevert(BondingManager.BondingManagerZeroAmount.selector);
        vm.prank(delegator);
        s.bonding.unbond(0);
        vm.expectRevert(
            abi.encodeWithSelector(BondingManager.BondingManagerInsufficientStake.selector, 11 * Fixture.TOKEN, 10 * Fixture.TOKEN)
        );
        vm.prank(delegator);
        s.bonding.unbond(11 * Fixture.TOKEN);
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerUnknownUnbondingLock.selector, delegator, 3));
        vm.prank(delegator);
        s.bonding.rebond(3);
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerUnknownUnbondingLock.selector, delegator, 3));
        vm.prank(delegator);
        s.bonding.withdrawStake(3);
        // Fully unbonded, still pointing at its orchestrator: nothing left to unbond.
        vm.prank(delegator);
        s.bonding.unbond(10 * Fixture.TOKEN);
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerNotBonded.selector, delegator));
        vm.prank(delegator);
        s.bonding.unbond(1);
    }

    function testFeeRules() public {
        vm.expectRevert(BondingManager.BondingManagerInvalidAddress.selector);
        vm.prank(delegator);
        s.bonding.withdrawFees(address(0), 1);
        vm.expectRevert(BondingManager.BondingManagerZeroAmount.selector);
        vm.prank(delegator);
        s.bonding.withdrawFees(delegator, 0);
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerInsufficientFees.selector, 1, 0));
        vm.prank(delegator);
        s.bonding.withdrawFees(delegator, 1);
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerUnauthorizedCaller.selector, delegator));
        vm.prank(delegator);
        s.bonding.updateOrchestratorWithFees(orch, 1);
        // An unregistered recipient is refused without a state change.
        vm.prank(address(s.broker));
        assertFalse(s.bonding.updateOrchestratorWithFees(delegator, 1), "credited an unregistered account");
        // A pool without shares sends all fees to the orchestrator's cut.
        vm.prank(other);
        s.bonding.setOrchestratorParams(0, 1_000_000);
        vm.prank(address(s.broker));
        assertTrue(s.bonding.updateOrchestratorWithFees(other, 5), "not credited");
        assertEq(s.bonding.pendingFees(other), 5, "fees of a share-less pool");
    }

    function testRewardRules() public {
        uint256 round = s.rounds.currentRound();
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerOrchestratorNotActive.selector, orch, round));
        vm.prank(orch);
        s.bonding.reward();
        Fixture.nextRound(s);
        assertTrue(s.bonding.isActiveOrchestrator(orch), "active next round");
        assertEq(s.bonding.activeOrchestratorCount(), 1, "active count");
        assertEq(s.bonding.totalActiveStake(), 1_000 * Fixture.TOKEN, "active stake");
        vm.prank(orch);
        s.bonding.reward();
        round = s.rounds.currentRound();
        vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerRewardAlreadyCalled.selector, orch, round));
        vm.prank(orch);
        s.bonding.reward();
        assertEq(s.bonding.getOrchestrator(orch).lastRewardRound, round, "last reward round");
        assertTrue(s.bonding.isActiveInRound(orch, round), "active in the current round");
        assertTrue(s.bonding.isActiveInRound(orch, round + 5), "active in later rounds until it leaves");
        assertFalse(s.bonding.isActiveInRound(orch, round - 1), "active before its activation");
    }

    /// @dev Entry when a seat frees up, eviction of the smallest member, exit at zero stake
    /// (with the last member moved into the freed slot), and re-entry via setOrchestratorParams.
    function testActiveSetEntryEvictionAndExit() public {
        s.bonding.setMaxActiveSetSize(2);
        address third = address(0x0C3);
        Fixture.fund(s, third, 100_000 * Fixture.TOKEN);
        Fixture.register(s, other, 0, 0, 2_000 * Fixture.TOKEN);
        Fixture.register(s, third, 0, 0, 500 * Fixture.TOKEN); // set full, smaller than both
        assertFalse(s.bonding.getOrchestrator(third).inNextActiveSet, "entered a full set while smallest");
        vm.expectRevert(abi.encodeWithSignature("BondingManagerInvalidActiveSetSize(uint256,uint256)", 1, 2));
        s.bonding.setMaxActiveSetSize(1);

        // third grows past orch; stake bonded this round counts from the next, so orch is evicted
        // (from the round after) only when third next touches its record in a later round.
        vm.prank(third);
        s.bonding.bond(1_000 * Fixture.TOKEN, third);
        assertFalse(s.bonding.getOrchestrator(third).inNextActiveSet, "entered on stake bonded this round");
        Fixture.nextRound(s);
        vm.prank(third);
        s.bonding.setOrchestratorParams(0, 0);
        assertTrue(s.bonding.getOrchestrator(third).inNextActiveSet, "third not in");
        assertFalse(s.bonding.getOrchestrator(orch).inNextActiveSet, "orch not evicted");

        // The set is now [third, other]. third unbonds everything: it leaves next round's set,
        // and the last member (other) moves into its slot.
        Fixture.nextRound(s);
        vm.prank(third);
        s.bonding.unbond(1_500 * Fixture.TOKEN);
        assertFalse(s.bonding.getOrchestrator(third).inNextActiveSet, "zero-stake member kept");
        address[] memory set = s.bonding.nextActiveSet();
        assertEq(set.length, 1, "set size after exit");
        assertEq(set[0], other, "remaining member");
        assertEq(s.bonding.nextRoundTotalActiveStake(), 2_000 * Fixture.TOKEN, "next active stake");
        // Still active in the current round, which started before the exit.
        assertTrue(s.bonding.isActiveOrchestrator(third), "exit took effect within the round");

        // A free seat: orch re-enters by calling setOrchestratorParams with its stake.
        vm.prank(orch);
        s.bonding.setOrchestratorParams(100_000, 500_000);
        assertTrue(s.bonding.getOrchestrator(orch).inNextActiveSet, "orch did not re-enter");
    }
}
