// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BondingManager} from "../../../contracts/bonding/BondingManager.sol";
import {ITicketBroker} from "../../../contracts/interfaces/ITicketBroker.sol";
import {TicketBroker} from "../../../contracts/payments/TicketBroker.sol";
import {Fixture, Segmint} from "../utils/Fixture.sol";
import {Test} from "../utils/Test.sol";

/// @title Regression tests for the attacks found against the TicketBroker: each one replays
/// an attack and asserts that it no longer works.
contract TicketBrokerAttacksTest is Test {
    uint256 private constant _SENDER_KEY = 0xA77AC;

    Segmint internal s;
    address internal sender;
    address internal honest = address(0x0C1);

    function setUp() public {
        s = Fixture.deploy();
        sender = vm.addr(_SENDER_KEY);
        Fixture.fund(s, sender, 100_000 * Fixture.TOKEN);
        Fixture.fund(s, honest, 10_000 * Fixture.TOKEN);
        Fixture.register(s, honest, 0, 0, 1_000 * Fixture.TOKEN);
        Fixture.nextRound(s);
        s.rounds.initializeRound();
    }

    // ------------------------------------------------------------ deposit escape

    /// @dev The sender registers itself as an orchestrator (no seat in the active set) and
    /// redeems an always-winning ticket to itself for its whole deposit: refused, the deposit
    /// stays for the honest recipient's ticket.
    function testSenderCannotPayItselfWithoutASeat() public {
        vm.prank(sender);
        s.broker.fundDeposit(9_000 * Fixture.TOKEN);
        ITicketBroker.Ticket memory honestTicket = _ticket(honest, 5_000 * Fixture.TOKEN, 1);

        vm.prank(sender);
        s.bonding.setOrchestratorParams(0, 0);
        ITicketBroker.Ticket memory own = _ticket(sender, 9_000 * Fixture.TOKEN, 2);
        bytes memory ownSig = Fixture.sign(s, _SENDER_KEY, own);
        vm.expectRevert(
            abi.encodeWithSelector(TicketBroker.TicketBrokerRecipientNotActive.selector, sender, own.creationRound)
        );
        s.broker.redeemWinningTicket(own, ownSig, 2);
        assertFalse(s.broker.isTicketUsed(s.broker.getTicketHash(own)), "refused ticket marked used");

        TicketBroker.RedemptionStatus status =
            s.broker.redeemWinningTicket(honestTicket, Fixture.sign(s, _SENDER_KEY, honestTicket), 1);
        assertTrue(status == TicketBroker.RedemptionStatus.Paid, "honest ticket not paid in full");
        assertEq(s.bonding.pendingFees(honest), 5_000 * Fixture.TOKEN, "honest recipient's fees");
    }

    /// @dev Orchestrators that are registered, even bonded, but hold no seat in the ticket's
    /// creation round cannot take a reserve share, so the honest recipient gets the whole
    /// reserve allocation of the one active orchestrator.
    function testOrchestratorsWithoutSeatCannotTakeReserve() public {
        vm.prank(sender);
        s.broker.fundReserve(9_000 * Fixture.TOKEN);
        address[2] memory sybils = [address(0x5B1), address(0x5B2)];
        for (uint256 i = 0; i < sybils.length; ++i) {
            vm.prank(sybils[i]);
            s.bonding.setOrchestratorParams(0, 0);
            ITicketBroker.Ticket memory t = _ticket(sybils[i], 9_000 * Fixture.TOKEN, 10 + i);
            bytes memory sig = Fixture.sign(s, _SENDER_KEY, t);
            vm.expectRevert(
                abi.encodeWithSelector(TicketBroker.TicketBrokerRecipientNotActive.selector, sybils[i], t.creationRound)
            );
            s.broker.redeemWinningTicket(t, sig, 10 + i);
        }
        ITicketBroker.Ticket memory honestTicket = _ticket(honest, 5_000 * Fixture.TOKEN, 20);
        s.broker.redeemWinningTicket(honestTicket, Fixture.sign(s, _SENDER_KEY, honestTicket), 20);
        assertEq(s.bonding.pendingFees(honest), 5_000 * Fixture.TOKEN, "honest recipient's reserve share");
        assertEq(s.broker.getSenderInfo(sender).reserve, 4_000 * Fixture.TOKEN, "reserve left");
    }

    /// @dev A recipient that joins the active set after the ticket's creation round cannot
    /// be paid by it: the seat must be held when the ticket was written.
    function testRecipientMustBeActiveInCreationRound() public {
        vm.prank(sender);
        s.broker.fundDeposit(1_000 * Fixture.TOKEN);
        address late = address(0x1A7E);
        Fixture.fund(s, late, 10_000 * Fixture.TOKEN);
        Fixture.register(s, late, 0, 0, 1_000 * Fixture.TOKEN);
        ITicketBroker.Ticket memory t = _ticket(late, 1 * Fixture.TOKEN, 30);
        bytes memory sig = Fixture.sign(s, _SENDER_KEY, t);
        Fixture.nextRound(s);
        assertTrue(s.bonding.isActiveOrchestrator(late), "late orchestrator not active now");
        vm.expectRevert(
            abi.encodeWithSelector(TicketBroker.TicketBrokerRecipientNotActive.selector, late, t.creationRound)
        );
        s.broker.redeemWinningTicket(t, sig, 30);
    }

    /// @dev The sender runs its own seated orchestrator (real stake above minSelfStake) and
    /// pays it its whole deposit with an always-winning ticket, without unlock(). The fees are
    /// credited, but they stay locked for the unlock period: the sender gets its money back no
    /// sooner than through unlock() and withdraw(), counting from the redemption.
    function testSelfDealingSenderWaitsTheUnlockPeriod() public {
        uint256 deposit = 9_000 * Fixture.TOKEN;
        Fixture.register(s, sender, 0, 0, 10 * Fixture.MIN_SELF_STAKE);
        vm.prank(sender);
        s.broker.fundDeposit(deposit);
        Fixture.nextRound(s);
        assertTrue(s.bonding.isActiveOrchestrator(sender), "sender's orchestrator not seated");

        ITicketBroker.Ticket memory own = _ticket(sender, deposit, 60);
        TicketBroker.RedemptionStatus status = s.broker.redeemWinningTicket(own, Fixture.sign(s, _SENDER_KEY, own), 60);
        assertTrue(status == TicketBroker.RedemptionStatus.Paid, "own ticket not paid");
        assertEq(s.bonding.pendingFees(sender), deposit, "fees credited to the sender's pool");
        // Settling at once starts the lock as early as the sender can.
        vm.prank(sender);
        s.bonding.claimEarnings();

        uint256 unlockRound = s.rounds.currentRound() + Fixture.UNLOCK_PERIOD;
        for (uint256 i = 0; i < Fixture.UNLOCK_PERIOD; ++i) {
            vm.expectRevert(abi.encodeWithSelector(BondingManager.BondingManagerFeesLocked.selector, deposit, 0, unlockRound));
            vm.prank(sender);
            s.bonding.withdrawFees(sender, deposit);
            Fixture.nextRound(s);
        }
        uint256 before = s.token.balanceOf(sender);
        vm.prank(sender);
        s.bonding.withdrawFees(sender, deposit);
        assertEq(s.token.balanceOf(sender) - before, deposit, "fees withdrawn after the unlock period");
    }

    // ------------------------------------------------------------ parameters and keepers

    /// @dev The setters keep the ticket validity below the unlock period, so no ticket is
    /// redeemable once its sender may withdraw.
    function testSettersKeepValidityBelowUnlockPeriod() public {
        uint256 unlockPeriod = s.broker.unlockPeriod();
        vm.expectRevert(
            abi.encodeWithSelector(
                TicketBroker.TicketBrokerValidityNotBelowUnlockPeriod.selector, unlockPeriod, unlockPeriod
            )
        );
        s.broker.setTicketValidityRounds(unlockPeriod);
        uint256 validity = s.broker.ticketValidityRounds();
        vm.expectRevert(
            abi.encodeWithSelector(TicketBroker.TicketBrokerValidityNotBelowUnlockPeriod.selector, validity, validity)
        );
        s.broker.setUnlockPeriod(validity);
    }

    /// @dev With nobody initializing rounds for longer than the ticket validity, a ticket
    /// created in the current round (computed from the block number, no block hash) still
    /// pays.
    function testTicketsWorkWithoutKeeper() public {
        vm.prank(sender);
        s.broker.fundDeposit(1_000 * Fixture.TOKEN);
        for (uint256 i = 0; i <= Fixture.TICKET_VALIDITY_ROUNDS + 1; ++i) {
            Fixture.nextRound(s);
        }
        assertTrue(s.rounds.lastInitializedRound() + Fixture.TICKET_VALIDITY_ROUNDS < s.rounds.currentRound(), "a round was initialized");
        ITicketBroker.Ticket memory t = _ticket(honest, 1 * Fixture.TOKEN, 40);
        t.creationRound = s.rounds.currentRound();
        t.creationRoundBlockHash = bytes32(0);
        TicketBroker.RedemptionStatus status = s.broker.redeemWinningTicket(t, Fixture.sign(s, _SENDER_KEY, t), 40);
        assertTrue(status == TicketBroker.RedemptionStatus.Paid, "keeper-less ticket not paid");
    }

    /// @dev A ticket cannot name a future creation round to extend its validity.
    function testFutureCreationRoundRejected() public {
        vm.prank(sender);
        s.broker.fundDeposit(1_000 * Fixture.TOKEN);
        ITicketBroker.Ticket memory t = _ticket(honest, 1 * Fixture.TOKEN, 50);
        t.creationRound = s.rounds.currentRound() + 1;
        t.creationRoundBlockHash = bytes32(0);
        bytes memory sig = Fixture.sign(s, _SENDER_KEY, t);
        vm.expectRevert(
            abi.encodeWithSelector(
                TicketBroker.TicketBrokerInvalidCreationRound.selector, t.creationRound, bytes32(0), bytes32(0)
            )
        );
        s.broker.redeemWinningTicket(t, sig, 50);
    }

    function _ticket(address recipient, uint256 faceValue, uint256 rand)
        private
        view
        returns (ITicketBroker.Ticket memory)
    {
        return Fixture.ticket(s, sender, recipient, faceValue, type(uint256).max, rand, rand);
    }
}
