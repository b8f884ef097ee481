// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ITicketBroker} from "../../../contracts/interfaces/ITicketBroker.sol";
import {Fixture, Segmint} from "../utils/Fixture.sol";
import {Test} from "../utils/Test.sol";

/// @title Regression tests for the attacks found against the BondingManager's earnings, seats
/// and parameters. Each reproduces the attack step by step and asserts the honest outcome.
contract BondingManagerAttacksTest is Test {
    uint256 private constant _TOKEN = Fixture.TOKEN;
    uint256 private constant _SENDER_KEY = 0xA77AC;
    uint256 private constant _DUST = 4;

    Segmint internal s;
    address internal orchA = address(0x0CA);
    address internal orchB = address(0x0CB);
    address internal mover = address(0x0D1);
    address internal honest = address(0x0D2);
    address internal sender;
    uint256 internal nonce;

    function setUp() public {
        s = Fixture.deploy();
        sender = vm.addr(_SENDER_KEY);
        Fixture.fund(s, orchA, 1_000_000 * _TOKEN);
        Fixture.fund(s, orchB, 1_000_000 * _TOKEN);
        Fixture.fund(s, mover, 1_000_000 * _TOKEN);
        Fixture.fund(s, honest, 1_000_000 * _TOKEN);
        Fixture.fund(s, sender, 1_000_000 * _TOKEN);
        vm.prank(sender);
        s.broker.fundDeposit(500_000 * _TOKEN);
    }

    /// @dev Two pools of 200k round-start stake each. The mover sits in A for A's reward(), then
    /// moves to B just before B's reward(). It must earn the round once (250 of A's 500), and B's
    /// mint must go to the stake that was in B when the round began.
    function testStakeHoppingEarnsTheRoundOnce() public {
        _twoPools(0, 1_000_000);
        vm.prank(orchA);
        s.bonding.reward();
        vm.prank(mover);
        s.bonding.bond(0, orchB);
        vm.prank(orchB);
        s.bonding.reward();

        assertApproxEq(s.bonding.pendingStake(mover), 100_250 * _TOKEN, _DUST, "mover earned more than its round");
        assertApproxEq(s.bonding.pendingStake(honest), 100_250 * _TOKEN, _DUST, "B's delegator was diluted");
        assertApproxEq(s.bonding.pendingStake(orchB), 100_250 * _TOKEN, _DUST, "B's self-bond was diluted");
    }

    /// @dev The mover jumps into B just before a 30k winning ticket to B and out right after:
    /// it must get none of B's fees, which go to the stake that was in B since the round began.
    function testFeeHoppingGetsNoFees() public {
        _twoPools(0, 1_000_000);
        vm.prank(mover);
        s.bonding.bond(0, orchB);
        _redeem(orchB, 30_000 * _TOKEN);
        vm.prank(mover);
        s.bonding.bond(0, orchA);

        assertEq(s.bonding.pendingFees(mover), 0, "the mover took fees");
        assertApproxEq(s.bonding.pendingFees(honest), 15_000 * _TOKEN, _DUST, "B's delegator lost fees");
        assertApproxEq(s.bonding.pendingFees(orchB), 15_000 * _TOKEN, _DUST, "B lost fees");
        // A move-in is worth what was moved, and earns from the next round in the new pool.
        assertApproxEq(s.bonding.pendingStake(mover), 100_000 * _TOKEN, _DUST, "moved stake changed");
    }

    /// @dev Fees credited later in a round still go to stake present at the round's start, not to
    /// stake that joined during the round; from the next round on the joiner earns like anyone.
    function testStakeJoiningEarnsFromTheNextRound() public {
        _twoPools(0, 1_000_000);
        vm.prank(mover);
        s.bonding.bond(0, orchB);
        _redeem(orchB, 20_000 * _TOKEN);
        assertEq(s.bonding.pendingFees(mover), 0, "joiner earned in its joining round");
        Fixture.nextRound(s);
        s.rounds.initializeRound();
        _redeem(orchB, 30_000 * _TOKEN);
        assertApproxEq(s.bonding.pendingFees(mover), 10_000 * _TOKEN, _DUST, "joiner's next-round share");
        assertApproxEq(s.bonding.pendingFees(honest), 20_000 * _TOKEN, _DUST, "honest: 10k + 10k");
    }

    /// @dev In the last block of a round, stake moved into a small orchestrator and straight back
    /// must not evict a member: seats are decided on stake bonded since the round began.
    function testFlashStakeCannotEvict() public {
        s.bonding.setMaxActiveSetSize(2);
        Fixture.register(s, orchA, 0, 0, 100_000 * _TOKEN);
        Fixture.register(s, orchB, 0, 0, 50_000 * _TOKEN);
        vm.prank(mover);
        s.bonding.bond(200_000 * _TOKEN, orchA);
        address squatter = address(0x0C5);
        Fixture.fund(s, squatter, 10 * _TOKEN);
        Fixture.register(s, squatter, 0, 0, 10 * _TOKEN);
        Fixture.nextRound(s);

        vm.roll(s.rounds.currentRoundStartBlock() + Fixture.ROUND_LENGTH - 1);
        vm.prank(mover);
        s.bonding.bond(0, squatter);
        vm.prank(mover);
        s.bonding.bond(0, orchA);
        Fixture.nextRound(s);

        assertTrue(s.bonding.isActiveOrchestrator(orchB), "a member was evicted by borrowed stake");
        assertFalse(s.bonding.isActiveOrchestrator(squatter), "the squatter holds a seat");
    }

    /// @dev An orchestrator with no real stake of its own (a 1-wei self-bond) takes no free seat,
    /// whatever is delegated to it, so it can neither earn inflation nor dilute reserve shares.
    function testNoSeatWithoutSelfStake() public {
        Fixture.register(s, orchA, 0, 0, 100_000 * _TOKEN);
        address dust = address(0x0C6);
        Fixture.fund(s, dust, 1);
        Fixture.register(s, dust, 0, 0, 1);
        vm.prank(mover);
        s.bonding.bond(500_000 * _TOKEN, dust);
        Fixture.nextRound(s);
        assertFalse(s.bonding.isActiveOrchestrator(dust), "a 1-wei orchestrator holds a seat");
        (bool active, uint256 count) = s.bonding.activeStatus(orchA);
        assertTrue(active, "the staked orchestrator is not active");
        assertEq(count, 1, "the active count includes an orchestrator without self-stake");
    }

    /// @dev An orchestrator alone in the set with a 1-wei self-bond would take the round's
    /// inflation into a pool of one share; the next delegator's 1,999 tokens must still be
    /// worth 1,999 tokens (less a few wei) right after bonding and once they earn.
    function testShareInflationCannotDiluteANewBond() public {
        address tiny = address(0x0C7);
        Fixture.fund(s, tiny, 1);
        Fixture.register(s, tiny, 0, 0, 1);
        Fixture.nextRound(s);
        vm.prank(tiny);
        try s.bonding.reward() {} catch {}
        vm.prank(honest);
        s.bonding.bond(1_999 * _TOKEN, tiny);
        assertGe(s.bonding.pendingStake(honest) + _DUST, 1_999 * _TOKEN, "bond lost value at once");
        Fixture.nextRound(s);
        vm.prank(honest);
        s.bonding.claimEarnings();
        assertGe(s.bonding.pendingStake(honest) + _DUST, 1_999 * _TOKEN, "bond lost value when it began earning");
    }

    /// @dev Setting the fee share to 0 around one's own winning tickets must not take the
    /// delegators' fees: the change applies from the next round.
    function testFeeShareChangeAppliesFromTheNextRound() public {
        _twoPools(0, 1_000_000);
        vm.prank(orchB);
        s.bonding.setOrchestratorParams(0, 0);
        _redeem(orchB, 30_000 * _TOKEN);
        vm.prank(orchB);
        s.bonding.setOrchestratorParams(0, 1_000_000);
        assertApproxEq(s.bonding.pendingFees(honest), 15_000 * _TOKEN, _DUST, "delegator lost its fee share");
    }

    /// @dev Setting the reward cut to 100% around reward() must not take the delegators' reward.
    function testRewardCutChangeAppliesFromTheNextRound() public {
        _twoPools(0, 1_000_000);
        vm.prank(orchB);
        s.bonding.setOrchestratorParams(1_000_000, 1_000_000);
        uint256 before = s.bonding.orchestratorTotalStake(orchB);
        vm.prank(orchB);
        s.bonding.reward();
        uint256 minted = s.bonding.orchestratorTotalStake(orchB) - before;
        vm.prank(orchB);
        s.bonding.setOrchestratorParams(0, 1_000_000);
        assertGe(minted, 1, "nothing minted");
        assertApproxEq(s.bonding.pendingStake(honest), 100_000 * _TOKEN + minted / 2, _DUST, "delegator lost its reward");
    }

    // ------------------------------------------------------------ helpers

    /// @dev A and B each with 100k self-bond and a 100k delegator (mover in A, honest in B),
    /// then the next round, initialized.
    function _twoPools(uint256 rewardCut, uint256 feeShare) private {
        Fixture.register(s, orchA, rewardCut, feeShare, 100_000 * _TOKEN);
        Fixture.register(s, orchB, rewardCut, feeShare, 100_000 * _TOKEN);
        vm.prank(mover);
        s.bonding.bond(100_000 * _TOKEN, orchA);
        vm.prank(honest);
        s.bonding.bond(100_000 * _TOKEN, orchB);
        Fixture.nextRound(s);
        s.rounds.initializeRound();
    }

    function _redeem(address recipient, uint256 faceValue) private {
        uint256 rand = uint256(keccak256(abi.encode("rand", ++nonce)));
        ITicketBroker.Ticket memory t = Fixture.ticket(s, sender, recipient, faceValue, type(uint256).max, nonce, rand);
        bytes memory sig = Fixture.sign(s, _SENDER_KEY, t);
        s.broker.redeemWinningTicket(t, sig, rand);
    }
}
