// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ITicketBroker} from "../../../contracts/interfaces/ITicketBroker.sol";
import {TicketBroker} from "../../../contracts/payments/TicketBroker.sol";
import {Fixture, Segmint} from "../utils/Fixture.sol";
import {Test} from "../utils/Test.sol";

/// @title TicketBroker fuzz tests: replay protection, the win rule, payment from deposit then
/// reserve (never below zero), the per-orchestrator reserve allocation, signature binding and
/// expiry.
contract TicketBrokerFuzzTest is Test {
    uint256 private constant _SENDER_KEY = 0xB0B;
    uint256 private constant _OTHER_KEY = 0xE7E;
    uint256 private constant _ORCHESTRATORS = 3;

    Segmint internal s;
    address internal sender;
    address[_ORCHESTRATORS] internal orchestrators;

    function setUp() public {
        s = Fixture.deploy();
        sender = vm.addr(_SENDER_KEY);
        Fixture.fund(s, sender, 1_000_000 * Fixture.TOKEN);
        for (uint256 i = 0; i < _ORCHESTRATORS; ++i) {
            orchestrators[i] = address(uint160(0x0C10 + i));
            Fixture.fund(s, orchestrators[i], 10_000 * Fixture.TOKEN);
            Fixture.register(s, orchestrators[i], 0, Fixture.PPM, 1_000 * Fixture.TOKEN);
        }
        // The set of 3 becomes active next round.
        Fixture.nextRound(s);
        s.rounds.initializeRound();
    }

    // ------------------------------------------------------------ replay

    function testFuzzTicketRedeemableOnce(uint256 faceValue, uint256 rand, uint256 nonce, bool batchReplay) public {
        faceValue = bound(faceValue, 1, 100_000 * Fixture.TOKEN);
        vm.prank(sender);
        s.broker.fundDeposit(100_000 * Fixture.TOKEN);
        (ITicketBroker.Ticket memory t, bytes memory sig) = _signed(orchestrators[0], faceValue, type(uint256).max, nonce, rand);
        bytes32 hash = s.broker.getTicketHash(t);

        assertTrue(s.broker.redeemWinningTicket(t, sig, rand) == TicketBroker.RedemptionStatus.Paid, "first redemption");
        uint256 depositAfter = s.broker.getSenderInfo(sender).deposit;
        assertTrue(s.broker.isTicketUsed(hash), "ticket not marked used");

        if (batchReplay) {
            (ITicketBroker.Ticket[] memory ts, bytes[] memory sigs, uint256[] memory rands) = _batch(t, sig, rand, 2);
            TicketBroker.RedemptionStatus[] memory statuses = s.broker.batchRedeemWinningTickets(ts, sigs, rands);
            assertTrue(statuses[0] == TicketBroker.RedemptionStatus.TicketUsed, "batch replay [0] not rejected");
            assertTrue(statuses[1] == TicketBroker.RedemptionStatus.TicketUsed, "batch replay [1] not rejected");
        } else {
            vm.expectRevert(abi.encodeWithSelector(TicketBroker.TicketBrokerTicketUsed.selector, hash));
            s.broker.redeemWinningTicket(t, sig, rand);
        }
        // Later rounds (still valid) do not reopen it either.
        Fixture.nextRound(s);
        vm.expectRevert(abi.encodeWithSelector(TicketBroker.TicketBrokerTicketUsed.selector, hash));
        s.broker.redeemWinningTicket(t, sig, rand);
        assertEq(s.broker.getSenderInfo(sender).deposit, depositAfter, "a replay moved funds");
    }

    /// @dev The same ticket twice in one batch: the first pays, the second is rejected.
    function testFuzzDuplicateInBatchPaysOnce(uint256 faceValue, uint256 rand) public {
        faceValue = bound(faceValue, 1, 1_000 * Fixture.TOKEN);
        vm.prank(sender);
        s.broker.fundDeposit(10_000 * Fixture.TOKEN);
        (ITicketBroker.Ticket memory t, bytes memory sig) = _signed(orchestrators[1], faceValue, type(uint256).max, 7, rand);
        (ITicketBroker.Ticket[] memory ts, bytes[] memory sigs, uint256[] memory rands) = _batch(t, sig, rand, 2);
        TicketBroker.RedemptionStatus[] memory statuses = s.broker.batchRedeemWinningTickets(ts, sigs, rands);
        assertTrue(statuses[0] == TicketBroker.RedemptionStatus.Paid, "first not paid");
        assertTrue(statuses[1] == TicketBroker.RedemptionStatus.TicketUsed, "duplicate not rejected");
        assertEq(s.broker.getSenderInfo(sender).deposit, 10_000 * Fixture.TOKEN - faceValue, "paid twice");
    }

    // ------------------------------------------------------------ win rule

    /// @dev A ticket wins exactly when uint256(keccak256(sig ++ recipientRand)) < winProb.
    function testFuzzWinRule(uint256 winProb, uint256 rand, uint256 nonce) public {
        vm.prank(sender);
        s.broker.fundDeposit(1_000 * Fixture.TOKEN);
        (ITicketBroker.Ticket memory t, bytes memory sig) = _signed(orchestrators[0], 1 * Fixture.TOKEN, winProb, nonce, rand);
        bool wins = uint256(keccak256(abi.encodePacked(sig, rand))) < winProb;
        if (!wins) {
            vm.expectRevert(
                abi.encodeWithSelector(TicketBroker.TicketBrokerTicketNotWinning.selector, s.broker.getTicketHash(t))
            );
        }
        s.broker.redeemWinningTicket(t, sig, rand);
        assertEq(s.broker.isTicketUsed(s.broker.getTicketHash(t)) ? 1 : 0, wins ? 1 : 0, "used flag != win");
    }

    // ------------------------------------------------------------ deposit, then reserve

    /// @dev Pays min(face, deposit) from the deposit, then at most the recipient's allocation
    /// (reserve / active orchestrators) from the reserve; never more than either holds.
    function testFuzzPaysFromDepositThenReserve(uint256 deposit, uint256 reserve, uint256 faceValue) public {
        deposit = bound(deposit, 0, 100_000 * Fixture.TOKEN);
        reserve = bound(reserve, 0, 100_000 * Fixture.TOKEN);
        vm.assume(deposit + reserve != 0);
        faceValue = bound(faceValue, 1, 300_000 * Fixture.TOKEN);
        vm.prank(sender);
        s.broker.fundDepositAndReserve(deposit, reserve);

        (ITicketBroker.Ticket memory t, bytes memory sig) = _signed(orchestrators[2], faceValue, type(uint256).max, 1, 99);
        uint256 brokerBefore = s.token.balanceOf(address(s.broker));
        TicketBroker.RedemptionStatus status = s.broker.redeemWinningTicket(t, sig, 99);

        uint256 fromDeposit = faceValue < deposit ? faceValue : deposit;
        uint256 allocation = reserve / _ORCHESTRATORS;
        uint256 fromReserve = faceValue - fromDeposit < allocation ? faceValue - fromDeposit : allocation;
        TicketBroker.SenderInfo memory info = s.broker.getSenderInfo(sender);
        assertEq(info.deposit, deposit - fromDeposit, "deposit after payment");
        assertEq(info.reserve, reserve - fromReserve, "reserve after payment");
        assertEq(info.reserveClaimedInCurrentRound, fromReserve, "reserve claimed this round");
        // Fees stay in the broker: its balance does not move on redemption.
        assertEq(s.token.balanceOf(address(s.broker)), brokerBefore, "broker balance moved");
        assertEq(s.bonding.pendingFees(orchestrators[2]), fromDeposit + fromReserve, "recipient credited other than paid");
        uint256 paid = fromDeposit + fromReserve;
        if (paid == faceValue) assertTrue(status == TicketBroker.RedemptionStatus.Paid, "status Paid");
        else if (paid == 0) assertTrue(status == TicketBroker.RedemptionStatus.Unpaid, "status Unpaid");
        else assertTrue(status == TicketBroker.RedemptionStatus.PaidPartially, "status PaidPartially");
    }

    /// @dev With no deposit, each active orchestrator gets at most reserve/3 per round however
    /// many tickets it redeems, early claims do not shrink later claimers' allocation, and the
    /// reserve never goes below zero; next round the allocation is recomputed.
    function testFuzzReserveAllocationPerOrchestrator(uint256 reserve, uint256[4] memory faceValues) public {
        reserve = bound(reserve, 3, 90_000 * Fixture.TOKEN);
        vm.prank(sender);
        s.broker.fundReserve(reserve);
        uint256 allocation = reserve / _ORCHESTRATORS;
        uint256 nonce;
        uint256 claimedInRound;
        for (uint256 i = 0; i < _ORCHESTRATORS; ++i) {
            uint256 received;
            uint256 asked;
            for (uint256 k = 0; k < faceValues.length; ++k) {
                uint256 face = bound(uint256(keccak256(abi.encode(faceValues[k], i))), 1, reserve);
                asked += face;
                (ITicketBroker.Ticket memory t, bytes memory sig) =
                    _signed(orchestrators[i], face, type(uint256).max, ++nonce, nonce);
                uint256 before = s.bonding.pendingFees(orchestrators[i]);
                s.broker.redeemWinningTicket(t, sig, nonce);
                received += s.bonding.pendingFees(orchestrators[i]) - before;
            }
            assertLe(received, allocation, "an orchestrator took more than its reserve allocation");
            // Early claimers do not shrink later claimers' allocations: each gets all it asked
            // for up to the same allocation.
            assertEq(received, asked < allocation ? asked : allocation, "allocation not honoured");
            assertEq(s.broker.claimedReserve(sender, orchestrators[i]), received, "claimedReserve view");
            claimedInRound += received;
            assertEq(s.broker.getSenderInfo(sender).reserveClaimedInCurrentRound, claimedInRound, "claimed this round");
        }
        assertGe(s.broker.getSenderInfo(sender).reserve, reserve - _ORCHESTRATORS * allocation, "reserve overdrawn");

        // Next round: the remaining reserve is shared again.
        uint256 left = s.broker.getSenderInfo(sender).reserve;
        Fixture.nextRound(s);
        s.rounds.initializeRound();
        (ITicketBroker.Ticket memory t2, bytes memory sig2) =
            _signed(orchestrators[0], type(uint128).max, type(uint256).max, ++nonce, nonce);
        uint256 before2 = s.bonding.pendingFees(orchestrators[0]);
        s.broker.redeemWinningTicket(t2, sig2, nonce);
        assertEq(s.bonding.pendingFees(orchestrators[0]) - before2, left / _ORCHESTRATORS, "next round's allocation");
    }

    // ------------------------------------------------------------ binding and expiry

    /// @dev A signature by another key, or any field changed after signing, is rejected.
    function testFuzzSignatureBindsEveryField(uint256 field, uint256 newValue) public {
        vm.prank(sender);
        s.broker.fundDeposit(1_000 * Fixture.TOKEN);
        (ITicketBroker.Ticket memory t, bytes memory sig) = _signed(orchestrators[0], 1 * Fixture.TOKEN, type(uint256).max, 5, 55);
        // A copy (memory struct assignment would alias `t`).
        ITicketBroker.Ticket memory forged = abi.decode(abi.encode(t), (ITicketBroker.Ticket));
        uint256 which = bound(field, 0, 3);
        if (which == 0) {
            vm.assume(newValue != t.faceValue);
            forged.faceValue = newValue;
        } else if (which == 1) {
            vm.assume(newValue != t.winProb);
            forged.winProb = newValue;
        } else if (which == 2) {
            vm.assume(newValue != t.senderNonce);
            forged.senderNonce = newValue;
        } else {
            forged.recipient = orchestrators[1 + (newValue % 2)];
        }
        vm.expectRevert(abi.encodeWithSelector(TicketBroker.TicketBrokerInvalidSignature.selector, sender));
        s.broker.redeemWinningTicket(forged, sig, 55);

        bytes memory otherSig = Fixture.sign(s, _OTHER_KEY, t);
        vm.expectRevert(abi.encodeWithSelector(TicketBroker.TicketBrokerInvalidSignature.selector, sender));
        s.broker.redeemWinningTicket(t, otherSig, 55);
        // The genuine ticket still pays.
        assertTrue(s.broker.redeemWinningTicket(t, sig, 55) == TicketBroker.RedemptionStatus.Paid, "genuine ticket");
    }

    /// @dev Valid through creationRound + ticketValidityRounds, expired after.
    function testFuzzExpiry(uint8 roundsLater) public {
        uint256 later = bound(roundsLater, 0, 6);
        vm.prank(sender);
        s.broker.fundDeposit(1_000 * Fixture.TOKEN);
        (ITicketBroker.Ticket memory t, bytes memory sig) = _signed(orchestrators[0], 1 * Fixture.TOKEN, type(uint256).max, 3, 33);
        for (uint256 i = 0; i < later; ++i) {
            Fixture.nextRound(s);
        }
        uint256 round = s.rounds.currentRound();
        if (round > t.creationRound + Fixture.TICKET_VALIDITY_ROUNDS) {
            vm.expectRevert(
                abi.encodeWithSelector(TicketBroker.TicketBrokerTicketExpired.selector, t.creationRound, round)
            );
        }
        s.broker.redeemWinningTicket(t, sig, 33);
    }

    /// @dev A ticket accepted before the sender starts unlocking can be redeemed in full in
    /// every round before the sender can withdraw.
    function testFuzzTicketBeforeUnlockIsPayableUntilWithdrawRound(uint256 faceValue, uint8 waitRounds) public {
        faceValue = bound(faceValue, 1, 1_000 * Fixture.TOKEN);
        vm.prank(sender);
        s.broker.fundDeposit(1_000 * Fixture.TOKEN);
        (ITicketBroker.Ticket memory t, bytes memory sig) = _signed(orchestrators[0], faceValue, type(uint256).max, 9, 99);
        vm.prank(sender);
        s.broker.unlock();
        uint256 withdrawRound = s.broker.getSenderInfo(sender).withdrawRound;
        uint256 wait = bound(waitRounds, 0, withdrawRound - s.rounds.currentRound() - 1);
        for (uint256 i = 0; i < wait; ++i) {
            Fixture.nextRound(s);
        }
        assertTrue(s.broker.redeemWinningTicket(t, sig, 99) == TicketBroker.RedemptionStatus.Paid, "not paid in full");
    }

    /// @dev The validity is below the unlock period, so a ticket created in the round the
    /// unlock started has expired by the withdraw round: the sender cannot withdraw while one of
    /// its tickets is still redeemable.
    function testNoTicketValidInWithdrawRound(uint256 faceValue) public {
        faceValue = bound(faceValue, 1, 10 * Fixture.TOKEN);
        vm.prank(sender);
        s.broker.fundDeposit(10 * Fixture.TOKEN);
        (ITicketBroker.Ticket memory t, bytes memory sig) = _signed(orchestrators[0], faceValue, type(uint256).max, 4, 44);
        vm.prank(sender);
        s.broker.unlock();
        uint256 withdrawRound = s.broker.getSenderInfo(sender).withdrawRound;
        while (s.rounds.currentRound() < withdrawRound) {
            Fixture.nextRound(s);
        }
        vm.expectRevert(
            abi.encodeWithSelector(TicketBroker.TicketBrokerTicketExpired.selector, t.creationRound, withdrawRound)
        );
        s.broker.redeemWinningTicket(t, sig, 44);
    }

    // ------------------------------------------------------------ helpers

    function _signed(address recipient, uint256 faceValue, uint256 winProb, uint256 nonce, uint256 rand)
        private
        view
        returns (ITicketBroker.Ticket memory t, bytes memory sig)
    {
        t = Fixture.ticket(s, sender, recipient, faceValue, winProb, nonce, rand);
        sig = Fixture.sign(s, _SENDER_KEY, t);
    }

    function _batch(ITicketBroker.Ticket memory t, bytes memory sig, uint256 rand, uint256 n)
        private
        pure
        returns (ITicketBroker.Ticket[] memory ts, bytes[] memory sigs, uint256[] memory rands)
    {
        ts = new ITicketBroker.Ticket[](n);
        sigs = new bytes[](n);
        rands = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            ts[i] = t;
            sigs[i] = sig;
            rands[i] = rand;
        }
    }
}
