// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IBondingManager} from "../../../contracts/interfaces/IBondingManager.sol";
import {IRoundsManager} from "../../../contracts/interfaces/IRoundsManager.sol";
import {ITicketBroker} from "../../../contracts/interfaces/ITicketBroker.sol";
import {TicketBroker} from "../../../contracts/payments/TicketBroker.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Fixture, Segmint} from "../utils/Fixture.sol";
import {Test} from "../utils/Test.sol";

/// @title TicketBroker rules: owner settings, the sender lifecycle's requires, every redemption
/// rejection (single and batch), and the views.
contract TicketBrokerRulesTest is Test {
    uint256 private constant _KEY = 0x5EED;

    Segmint internal s;
    address internal sender;
    address internal orch = address(0x0C1);
    address internal stranger = address(0x5757);

    function setUp() public {
        s = Fixture.deploy();
        sender = vm.addr(_KEY);
        Fixture.fund(s, sender, 100_000 * Fixture.TOKEN);
        Fixture.fund(s, orch, 10_000 * Fixture.TOKEN);
        Fixture.register(s, orch, 0, 0, 1_000 * Fixture.TOKEN);
        Fixture.nextRound(s);
        s.rounds.initializeRound();
    }

    function testConstructorSettingsAndViews() public {
        vm.expectRevert(TicketBroker.TicketBrokerInvalidAddress.selector);
        new TicketBroker(address(this), IERC20(address(0)), s.rounds, IBondingManager(address(s.bonding)), 1, 1);
        vm.expectRevert(TicketBroker.TicketBrokerInvalidAddress.selector);
        new TicketBroker(address(this), s.token, IRoundsManager(address(0)), IBondingManager(address(s.bonding)), 1, 1);
        vm.expectRevert(TicketBroker.TicketBrokerInvalidAddress.selector);
        new TicketBroker(address(this), s.token, s.rounds, IBondingManager(address(0)), 1, 1);

        s.broker.setUnlockPeriod(5);
        assertEq(s.broker.unlockPeriod(), 5, "unlock period");
        s.broker.setTicketValidityRounds(4);
        assertEq(s.broker.ticketValidityRounds(), 4, "validity");
        vm.expectRevert(abi.encodeWithSelector(TicketBroker.TicketBrokerInvalidUnlockPeriod.selector, 1 << 32));
        s.broker.setUnlockPeriod(1 << 32);
        vm.expectRevert(abi.encodeWithSelector(TicketBroker.TicketBrokerInvalidTicketValidity.selector, 1 << 32));
        s.broker.setTicketValidityRounds(1 << 32);
        vm.expectRevert(abi.encodeWithSelector(TicketBroker.TicketBrokerValidityNotBelowUnlockPeriod.selector, 3, 3));
        new TicketBroker(address(this), s.token, s.rounds, IBondingManager(address(s.bonding)), 3, 3);
        vm.expectRevert(abi.encodeWithSelector(TicketBroker.TicketBrokerInvalidUnlockPeriod.selector, 0));
        s.broker.setUnlockPeriod(0);
        vm.expectRevert(abi.encodeWithSelector(TicketBroker.TicketBrokerInvalidTicketValidity.selector, 0));
        s.broker.setTicketValidityRounds(0);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSignature("OwnableUnauthorizedAccount(address)", stranger));
        s.broker.setUnlockPeriod(3);

        assertEq(s.broker.token(), address(s.token), "token()");
        assertEq(s.broker.roundsManager(), address(s.rounds), "roundsManager()");
        assertEq(s.broker.bondingManager(), address(s.bonding), "bondingManager()");
    }

    function testSenderLifecycleRules() public {
        vm.startPrank(sender);
        vm.expectRevert(TicketBroker.TicketBrokerZeroAmount.selector);
        s.broker.fundDepositAndReserve(0, 0);
        vm.expectRevert(abi.encodeWithSelector(TicketBroker.TicketBrokerEmptyDepositAndReserve.selector, sender));
        s.broker.unlock();
        vm.expectRevert(abi.encodeWithSelector(TicketBroker.TicketBrokerEmptyDepositAndReserve.selector, sender));
        s.broker.withdraw();
        vm.expectRevert(abi.encodeWithSelector(TicketBroker.TicketBrokerNotUnlocking.selector, sender));
        s.broker.cancelUnlock();

        s.broker.fundReserve(10 * Fixture.TOKEN);
        s.broker.fundDeposit(20 * Fixture.TOKEN);
        vm.expectRevert(abi.encodeWithSelector(TicketBroker.TicketBrokerNotUnlocking.selector, sender));
        s.broker.withdraw();
        s.broker.unlock();
        assertTrue(s.broker.isUnlockInProgress(sender), "unlocking");
        uint256 withdrawRound = s.broker.getSenderInfo(sender).withdrawRound;
        vm.expectRevert(abi.encodeWithSelector(TicketBroker.TicketBrokerAlreadyUnlocking.selector, sender, withdrawRound));
        s.broker.unlock();
        uint256 round = s.rounds.currentRound();
        vm.expectRevert(
            abi.encodeWithSelector(TicketBroker.TicketBrokerUnlockPeriodNotOver.selector, sender, withdrawRound, round)
        );
        s.broker.withdraw();
        s.broker.cancelUnlock();
        assertFalse(s.broker.isUnlockInProgress(sender), "cancelled");
        s.broker.unlock();
        vm.stopPrank();

        uint256 unlockRound = s.rounds.currentRound();
        for (uint256 i = 0; i + 1 < Fixture.UNLOCK_PERIOD; ++i) {
            Fixture.nextRound(s);
        }
        // The last round before the withdraw round is still too early.
        vm.expectRevert(
            abi.encodeWithSelector(
                TicketBroker.TicketBrokerUnlockPeriodNotOver.selector,
                sender,
                unlockRound + Fixture.UNLOCK_PERIOD,
                unlockRound + Fixture.UNLOCK_PERIOD - 1
            )
        );
        vm.prank(sender);
        s.broker.withdraw();
        Fixture.nextRound(s);
        uint256 before = s.token.balanceOf(sender);
        vm.prank(sender);
        s.broker.withdraw();
        assertEq(s.token.balanceOf(sender) - before, 30 * Fixture.TOKEN, "withdrawn");
        TicketBroker.SenderInfo memory info = s.broker.getSenderInfo(sender);
        assertEq(info.deposit + info.reserve + info.withdrawRound, 0, "sender state left");
    }

    function testEveryRedemptionRejection() public {
        vm.prank(sender);
        s.broker.fundDeposit(100 * Fixture.TOKEN);
        ITicketBroker.Ticket memory t = Fixture.ticket(s, sender, orch, 1 * Fixture.TOKEN, type(uint256).max, 1, 11);

        ITicketBroker.Ticket memory bad = _copy(t);
        bad.recipient = address(0);
        bytes memory sig1 = Fixture.sign(s, _KEY, bad);
        vm.expectRevert(abi.encodeWithSelector(TicketBroker.TicketBrokerInvalidRecipient.selector, address(0)));
        s.broker.redeemWinningTicket(bad, sig1, 11);

        bytes memory sig2 = Fixture.sign(s, _KEY, t);

        vm.expectRevert(
            abi.encodeWithSelector(TicketBroker.TicketBrokerInvalidRecipientRand.selector, t.recipientRandHash, 12)
        );
        s.broker.redeemWinningTicket(t, sig2, 12);

        bad = _copy(t);
        bad.creationRoundBlockHash = bytes32(uint256(1));
        bytes memory sig3 = Fixture.sign(s, _KEY, bad);
        vm.expectRevert(
            abi.encodeWithSelector(
                TicketBroker.TicketBrokerInvalidCreationRound.selector, t.creationRound, t.creationRoundBlockHash, bytes32(uint256(1))
            )
        );
        s.broker.redeemWinningTicket(bad, sig3, 11);

        bad = _copy(t);
        bad.creationRound = t.creationRound + 100;
        bytes memory sig4 = Fixture.sign(s, _KEY, bad);
        vm.expectRevert(
            abi.encodeWithSelector(
                TicketBroker.TicketBrokerInvalidCreationRound.selector, bad.creationRound, bytes32(0), t.creationRoundBlockHash
            )
        );
        s.broker.redeemWinningTicket(bad, sig4, 11);

        // A malformed signature (wrong length) is an invalid signature, not a crash.
        vm.expectRevert(abi.encodeWithSelector(TicketBroker.TicketBrokerInvalidSignature.selector, sender));
        s.broker.redeemWinningTicket(t, hex"1234", 11);

        // A recipient without a seat in the creation round: rejected, ticket not used.
        bad = _copy(t);
        bad.recipient = stranger;
        bytes memory strangerSig = Fixture.sign(s, _KEY, bad);
        vm.expectRevert(
            abi.encodeWithSelector(TicketBroker.TicketBrokerRecipientNotActive.selector, stranger, bad.creationRound)
        );
        s.broker.redeemWinningTicket(bad, strangerSig, 11);
        assertFalse(s.broker.isTicketUsed(s.broker.getTicketHash(bad)), "rejected ticket marked used");
    }

    /// @dev A batch never reverts for a bad ticket: it reports each one's status and emits.
    function testBatchReportsEachOutcome() public {
        vm.prank(sender);
        s.broker.fundDeposit(2 * Fixture.TOKEN);
        ITicketBroker.Ticket[] memory ts = new ITicketBroker.Ticket[](4);
        bytes[] memory sigs = new bytes[](4);
        uint256[] memory rands = new uint256[](4);
        for (uint256 i = 0; i < 4; ++i) {
            ts[i] = Fixture.ticket(s, sender, orch, 1 * Fixture.TOKEN, type(uint256).max, i, 100 + i);
            sigs[i] = Fixture.sign(s, _KEY, ts[i]);
            rands[i] = 100 + i;
        }
        rands[1] = 7; // wrong reveal
        ts[3].faceValue = 5 * Fixture.TOKEN; // more than what is left, and changed after signing
        sigs[3] = Fixture.sign(s, _KEY, ts[3]);
        TicketBroker.RedemptionStatus[] memory statuses = s.broker.batchRedeemWinningTickets(ts, sigs, rands);
        assertTrue(statuses[0] == TicketBroker.RedemptionStatus.Paid, "[0] paid");
        assertTrue(statuses[1] == TicketBroker.RedemptionStatus.InvalidRecipientRand, "[1] bad reveal");
        assertTrue(statuses[2] == TicketBroker.RedemptionStatus.Paid, "[2] paid");
        // The deposit is empty and there is no reserve: used, nothing paid, shortfall emitted.
        assertTrue(statuses[3] == TicketBroker.RedemptionStatus.Unpaid, "[3] unpaid");
        assertTrue(s.broker.isTicketUsed(s.broker.getTicketHash(ts[3])), "unpaid ticket not used");

        vm.expectRevert(abi.encodeWithSelector(TicketBroker.TicketBrokerBatchLengthMismatch.selector, 4, 4, 3));
        s.broker.batchRedeemWinningTickets(ts, sigs, new uint256[](3));
    }

    function testOnlyBondingManagerMovesFees() public {
        vm.expectRevert(abi.encodeWithSelector(TicketBroker.TicketBrokerUnauthorizedCaller.selector, stranger));
        vm.prank(stranger);
        s.broker.transferFees(stranger, 1);
    }

    function testReserveViewsPerRound() public {
        vm.prank(sender);
        s.broker.fundReserve(30 * Fixture.TOKEN);
        ITicketBroker.Ticket memory t = Fixture.ticket(s, sender, orch, 50 * Fixture.TOKEN, type(uint256).max, 1, 5);
        s.broker.redeemWinningTicket(t, Fixture.sign(s, _KEY, t), 5);
        uint256 round = s.rounds.currentRound();
        // The only active orchestrator may take the whole reserve.
        assertEq(s.broker.claimedReserveInRound(sender, orch, round), 30 * Fixture.TOKEN, "claimed in round");
        assertEq(s.broker.claimedReserve(sender, orch), 30 * Fixture.TOKEN, "claimed now");
        Fixture.nextRound(s);
        assertEq(s.broker.claimedReserve(sender, orch), 0, "new round resets");
        assertEq(s.broker.getSenderInfo(sender).reserveClaimedInCurrentRound, 0, "new round resets total");
    }

    /// @dev A sender that withdraws and refunds its reserve in the round of earlier claims: the
    /// allocation counts those claims back in, but a recipient never gets more than the
    /// reserve actually holds (it never goes below zero).
    function testAllocationCappedByRefundedReserve() public {
        address orch2 = address(0x0C2);
        Fixture.fund(s, orch2, 10_000 * Fixture.TOKEN);
        Fixture.register(s, orch2, 0, 0, 1_000 * Fixture.TOKEN);
        vm.startPrank(sender);
        s.broker.fundReserve(100 * Fixture.TOKEN);
        s.broker.unlock();
        vm.stopPrank();
        for (uint256 i = 0; i < Fixture.UNLOCK_PERIOD; ++i) {
            Fixture.nextRound(s);
        }
        s.rounds.initializeRound();
        assertEq(s.bonding.activeOrchestratorCount(), 2, "two active");

        ITicketBroker.Ticket memory t1 = Fixture.ticket(s, sender, orch, 1_000 * Fixture.TOKEN, type(uint256).max, 1, 1);
        s.broker.redeemWinningTicket(t1, Fixture.sign(s, _KEY, t1), 1);
        assertEq(s.bonding.pendingFees(orch), 50 * Fixture.TOKEN, "half the reserve");
        vm.startPrank(sender);
        s.broker.withdraw();
        s.broker.fundReserve(10 * Fixture.TOKEN);
        vm.stopPrank();

        // orch2's allocation is (10 + 50) / 2 = 30, but only 10 is there.
        ITicketBroker.Ticket memory t2 = Fixture.ticket(s, sender, orch2, 1_000 * Fixture.TOKEN, type(uint256).max, 2, 2);
        s.broker.redeemWinningTicket(t2, Fixture.sign(s, _KEY, t2), 2);
        assertEq(s.bonding.pendingFees(orch2), 10 * Fixture.TOKEN, "paid beyond the reserve");
        assertEq(s.broker.getSenderInfo(sender).reserve, 0, "reserve left");
    }

    /// @dev A recipient seated in the ticket's creation round but evicted by the redemption
    /// round is still paid from the deposit, but takes nothing from the reserve: only the
    /// current round's active orchestrators share it.
    function testEvictedRecipientPaidFromDepositOnly() public {
        address[3] memory others = [address(0x0C2), address(0x0C3), address(0x0C4)];
        for (uint256 i = 0; i < 3; ++i) {
            Fixture.fund(s, others[i], 10_000 * Fixture.TOKEN);
        }
        Fixture.register(s, others[0], 0, 0, 2_000 * Fixture.TOKEN);
        Fixture.register(s, others[1], 0, 0, 3_000 * Fixture.TOKEN);
        // The set (orch and the two above) is full, and a newcomer's stake counts for a seat
        // only from the round after it was bonded: others[2] waits outside for now.
        Fixture.register(s, others[2], 0, 0, 5_000 * Fixture.TOKEN);
        Fixture.nextRound(s);
        assertTrue(s.bonding.isActiveOrchestrator(orch), "not seated in the creation round");
        assertFalse(s.bonding.isActiveOrchestrator(others[2]), "newcomer seated at once");
        vm.prank(sender);
        s.broker.fundDepositAndReserve(1 * Fixture.TOKEN, 30 * Fixture.TOKEN);
        ITicketBroker.Ticket memory t = Fixture.ticket(s, sender, orch, 5 * Fixture.TOKEN, type(uint256).max, 1, 9);
        bytes memory sig = Fixture.sign(s, _KEY, t);
        // Now settled, the bigger orchestrator's bid takes the smallest member's seat from the
        // next round.
        vm.prank(others[2]);
        s.bonding.setOrchestratorParams(0, 0);
        assertTrue(s.bonding.isActiveOrchestrator(orch), "evicted within the creation round");
        Fixture.nextRound(s);
        assertFalse(s.bonding.isActiveOrchestrator(orch), "still active");
        assertTrue(s.bonding.isActiveInRound(orch, t.creationRound), "not seated in the creation round");
        assertTrue(s.broker.redeemWinningTicket(t, sig, 9) == TicketBroker.RedemptionStatus.PaidPartially, "status");
        assertEq(s.bonding.pendingFees(orch), 1 * Fixture.TOKEN, "paid other than the deposit");
        assertEq(s.broker.getSenderInfo(sender).reserve, 30 * Fixture.TOKEN, "reserve touched");
    }

    function _copy(ITicketBroker.Ticket memory t) private pure returns (ITicketBroker.Ticket memory) {
        return abi.decode(abi.encode(t), (ITicketBroker.Ticket));
    }
}
