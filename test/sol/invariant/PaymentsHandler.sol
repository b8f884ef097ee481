// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ITicketBroker} from "../../../contracts/interfaces/ITicketBroker.sol";
import {TicketBroker} from "../../../contracts/payments/TicketBroker.sol";
import {OrchestratorRegistry} from "../../../contracts/registry/OrchestratorRegistry.sol";
import {Fixture, Segmint} from "../utils/Fixture.sol";
import {CheckedHandler} from "./CheckedHandler.sol";

/// @title Drives the sender side (funding, unlocking, withdrawing), every kind of ticket
/// redemption (winning, losing, replayed, to recipients with and without a seat, alone and in
/// batches, from older creation rounds), the TicketBroker's parameters and the registry, every
/// call through CheckedHandler's checked paths. Ghosts: what senders funded and withdrew, what
/// tickets paid, and each recipient's reserve take per sender and round.
contract PaymentsHandler is CheckedHandler {
    uint256 public constant SENDERS = 2;
    uint256 private constant _SENDER_KEY_BASE = 0xA11CE;

    address[] public orchestrators;
    uint256[] internal _senderKeys;
    address[] public senders;

    uint256 public ghostFunded;
    uint256 public ghostPaidToRecipients;
    uint256 public ghostPaidFromReserve;
    uint256 public ghostWithdrawnBySenders;
    uint256 public ghostTicketsPaid;
    uint256 public ghostLosingRejected;
    uint256 public ghostUnseatedRejected;
    uint256 public ghostReplaysAccepted;
    uint256 public ghostReplaysRejected;
    uint256 public ghostReserveOverdrawn;
    /// @notice The smallest unlock period the run has set: no fee may leave sooner after its ticket.
    uint256 public ghostMinUnlockPeriod = Fixture.UNLOCK_PERIOD;
    /// @dev What tickets paid in each round (see paidThrough).
    mapping(uint256 round => uint256) internal _paidInRound;
    mapping(address sender => uint256) public ghostFundedBy;
    mapping(address sender => uint256) public ghostWithdrawnBy;
    /// @dev Reserve each recipient took from each sender in each round, and all recipients'.
    mapping(address sender => mapping(uint256 round => mapping(address recipient => uint256))) public ghostReserveTaken;
    mapping(address sender => mapping(uint256 round => uint256)) public ghostReserveTakenInRound;
    /// @notice Reserve each sender withdrew in each round (it leaves after that round's claims
    /// were allocated, so it still counts in their base).
    mapping(address sender => mapping(uint256 round => uint256)) public ghostReserveWithdrawnInRound;
    uint256 private _nonce;

    struct Redeemed {
        ITicketBroker.Ticket ticket;
        bytes sig;
        uint256 recipientRand;
    }

    Redeemed[] internal _redeemed;

    constructor(Segmint memory segmint, address[] memory orchestrators_) {
        s = segmint;
        orchestrators = orchestrators_;
        for (uint256 i = 0; i < SENDERS; ++i) {
            uint256 key = _SENDER_KEY_BASE + i;
            _senderKeys.push(key);
            senders.push(vm.addr(key));
        }
    }

    function redeemedCount() external view returns (uint256) {
        return _redeemed.length;
    }

    /// @notice What tickets paid to recipients in rounds up to `round`.
    function paidThrough(uint256 round) external view returns (uint256 paid) {
        for (uint256 r = 0; r <= round; ++r) {
            paid += _paidInRound[r];
        }
    }

    // ------------------------------------------------------------ senders

    function fundDeposit(uint256 who, uint256 amount) external {
        _fund(who, amount, 0, 0);
    }

    function fundReserve(uint256 who, uint256 amount) external {
        _fund(who, 0, amount, 1);
    }

    function fundDepositAndReserve(uint256 who, uint256 deposit, uint256 reserve) external {
        _fund(who, deposit, reserve, 2);
    }

    function unlock(uint256 who) external {
        address sender = senders[who % SENDERS];
        TicketBroker.SenderInfo memory info = s.broker.getSenderInfo(sender);
        bytes memory call = abi.encodeCall(TicketBroker.unlock, ());
        if (info.deposit + info.reserve == 0) {
            _expectRevert(sender, address(s.broker), call, TicketBroker.TicketBrokerEmptyDepositAndReserve.selector);
        } else if (info.withdrawRound != 0) {
            _expectRevert(sender, address(s.broker), call, TicketBroker.TicketBrokerAlreadyUnlocking.selector);
        } else if (_act(sender, address(s.broker), call)) {
            _check(
                s.broker.getSenderInfo(sender).withdrawRound == s.rounds.currentRound() + s.broker.unlockPeriod(),
                "unlock set another withdraw round"
            );
        }
    }

    function cancelUnlock(uint256 who) external {
        address sender = senders[who % SENDERS];
        bytes memory call = abi.encodeCall(TicketBroker.cancelUnlock, ());
        if (!s.broker.isUnlockInProgress(sender)) {
            _expectRevert(sender, address(s.broker), call, TicketBroker.TicketBrokerNotUnlocking.selector);
            return;
        }
        if (_act(sender, address(s.broker), call)) _check(!s.broker.isUnlockInProgress(sender), "unlock not cancelled");
    }

    /// @dev The only way a sender gets funds back: withdraw() once its withdraw round has come.
    /// Any earlier attempt must be refused.
    function withdraw(uint256 who) external {
        address sender = senders[who % SENDERS];
        TicketBroker.SenderInfo memory info = s.broker.getSenderInfo(sender);
        bytes memory call = abi.encodeCall(TicketBroker.withdraw, ());
        if (info.deposit + info.reserve == 0) {
            _expectRevert(sender, address(s.broker), call, TicketBroker.TicketBrokerEmptyDepositAndReserve.selector);
            return;
        }
        if (info.withdrawRound == 0) {
            _expectRevert(sender, address(s.broker), call, TicketBroker.TicketBrokerNotUnlocking.selector);
            return;
        }
        if (s.rounds.currentRound() < info.withdrawRound) {
            _expectRevert(sender, address(s.broker), call, TicketBroker.TicketBrokerUnlockPeriodNotOver.selector);
            return;
        }
        uint256 before = s.token.balanceOf(sender);
        if (!_act(sender, address(s.broker), call)) return;
        _check(s.token.balanceOf(sender) - before == info.deposit + info.reserve, "withdraw paid other than deposit+reserve");
        ghostWithdrawnBySenders += info.deposit + info.reserve;
        ghostWithdrawnBy[sender] += info.deposit + info.reserve;
        ghostReserveWithdrawnInRound[sender][s.rounds.currentRound()] += info.reserve;
    }

    /// @dev Moves to the last round before an unlocking sender's withdraw round (where an
    /// off-by-one would let it out early) and tries to withdraw there: it must be refused.
    function withdrawInLastLockedRound(uint256 who) external {
        address sender = senders[who % SENDERS];
        TicketBroker.SenderInfo memory info = s.broker.getSenderInfo(sender);
        if (info.withdrawRound == 0 || info.deposit + info.reserve == 0) return;
        if (s.rounds.currentRound() + 1 >= info.withdrawRound) return;
        while (s.rounds.currentRound() + 1 < info.withdrawRound) {
            _nextRound();
        }
        _expectRevert(
            sender,
            address(s.broker),
            abi.encodeCall(TicketBroker.withdraw, ()),
            TicketBroker.TicketBrokerUnlockPeriodNotOver.selector
        );
    }

    // ------------------------------------------------------------ tickets

    /// @dev A fresh winning ticket, created in the current round or up to the validity before
    /// it, to any orchestrator: it pays only a recipient seated in its creation round.
    function redeemTicket(uint256 from, uint256 to, uint256 faceValue, uint256 rand, uint256 age) external {
        _redeemFresh(from % SENDERS, orchestrators[to % orchestrators.length], bound(faceValue, 1, 50_000 * Fixture.TOKEN), rand, age);
    }

    /// @dev A winning ticket just above what the deposit holds: the deposit pays all it has and
    /// the reserve (up to the allocation) the rest, never more than the face value.
    function redeemSpanningDeposit(uint256 from, uint256 to, uint256 extra, uint256 rand) external {
        uint256 si = from % SENDERS;
        TicketBroker.SenderInfo memory info = s.broker.getSenderInfo(senders[si]);
        if (info.deposit == 0 || info.reserve == 0) return;
        uint256 faceValue = info.deposit + bound(extra, 1, info.reserve);
        _redeemFresh(si, orchestrators[to % orchestrators.length], faceValue, rand, 0);
    }

    function _redeemFresh(uint256 si, address recipient, uint256 faceValue, uint256 rand, uint256 age) private {
        (ITicketBroker.Ticket memory t, bytes memory sig) = _signed(si, recipient, faceValue, type(uint256).max, rand, age);
        bytes memory call = abi.encodeCall(TicketBroker.redeemWinningTicket, (t, sig, rand));
        if (!s.bonding.isActiveInRound(recipient, t.creationRound)) {
            _expectRevert(address(this), address(s.broker), call, TicketBroker.TicketBrokerRecipientNotActive.selector);
            _check(!s.broker.isTicketUsed(s.broker.getTicketHash(t)), "a refused ticket was marked used");
            ++ghostUnseatedRejected;
            return;
        }
        TicketBroker.SenderInfo memory before = s.broker.getSenderInfo(senders[si]);
        (bool active, uint256 activeCount) = s.bonding.activeStatus(recipient);
        if (!_act(address(this), address(s.broker), call)) return;
        TicketBroker.SenderInfo memory afterInfo = s.broker.getSenderInfo(senders[si]);
        uint256 fromDeposit = before.deposit - afterInfo.deposit;
        uint256 fromReserve = before.reserve - afterInfo.reserve;
        _check(fromDeposit + fromReserve <= faceValue, "a ticket paid more than its face value");
        _check(fromReserve == 0 || fromDeposit == before.deposit, "the reserve paid before the deposit ran out");
        _check(fromReserve == 0 || active, "an orchestrator not active now took reserve");
        _check(s.broker.isTicketUsed(s.broker.getTicketHash(t)), "a redeemed ticket is not marked used");
        _takeReserve(senders[si], recipient, fromReserve, afterInfo.reserve, activeCount);
        ghostPaidToRecipients += fromDeposit + fromReserve;
        _paidInRound[s.rounds.currentRound()] += fromDeposit + fromReserve;
        ++ghostTicketsPaid;
        _redeemed.push(Redeemed({ticket: t, sig: sig, recipientRand: rand}));
    }

    /// @dev A losing ticket is refused and changes nothing.
    function redeemLosingTicket(uint256 from, uint256 to, uint256 faceValue, uint256 rand) external {
        uint256 si = from % SENDERS;
        address recipient = orchestrators[to % orchestrators.length];
        faceValue = bound(faceValue, 1, 50_000 * Fixture.TOKEN);
        (ITicketBroker.Ticket memory t, bytes memory sig) = _signed(si, recipient, faceValue, 0, rand, 0);
        TicketBroker.SenderInfo memory before = s.broker.getSenderInfo(senders[si]);
        _expectRevert(
            address(this),
            address(s.broker),
            abi.encodeCall(TicketBroker.redeemWinningTicket, (t, sig, rand)),
            TicketBroker.TicketBrokerTicketNotWinning.selector
        );
        TicketBroker.SenderInfo memory afterInfo = s.broker.getSenderInfo(senders[si]);
        _check(afterInfo.deposit == before.deposit && afterInfo.reserve == before.reserve, "a losing ticket moved funds");
        _check(!s.broker.isTicketUsed(s.broker.getTicketHash(t)), "a losing ticket was marked used");
        ++ghostLosingRejected;
    }

    struct Batch {
        address sender;
        uint256 faceValue;
        ITicketBroker.Ticket[] tickets;
        bytes[] sigs;
        uint256[] rands;
        uint256[] claimedBefore;
        TicketBroker.SenderInfo before;
    }

    /// @dev A batch of fresh tickets (the second one losing) with the first repeated at the
    /// end: the batch never reverts, each status is the ticket's own, the repeat pays nothing.
    function redeemBatch(uint256 from, uint256 to, uint256 faceValue, uint8 size) external {
        Batch memory b = _makeBatch(from % SENDERS, to, bound(faceValue, 1, 20_000 * Fixture.TOKEN), bound(size, 3, 6));
        (bool ok, bytes memory result) = address(s.broker).call(
            abi.encodeCall(TicketBroker.batchRedeemWinningTickets, (b.tickets, b.sigs, b.rands))
        );
        if (!ok) {
            _fail("a batch reverted as a whole", result);
            return;
        }
        _checkBatch(b, abi.decode(result, (TicketBroker.RedemptionStatus[])));
    }

    function _makeBatch(uint256 si, uint256 to, uint256 faceValue, uint256 n) private returns (Batch memory b) {
        b.sender = senders[si];
        b.faceValue = faceValue;
        b.tickets = new ITicketBroker.Ticket[](n);
        b.sigs = new bytes[](n);
        b.rands = new uint256[](n);
        b.claimedBefore = new uint256[](n);
        for (uint256 i = 0; i + 1 < n; ++i) {
            address recipient = orchestrators[(to % orchestrators.length + i) % orchestrators.length];
            (b.tickets[i], b.sigs[i]) = _signed(si, recipient, faceValue, i == 1 ? 0 : type(uint256).max, i, 0);
            b.rands[i] = i;
            b.claimedBefore[i] = s.broker.claimedReserve(b.sender, recipient);
        }
        b.tickets[n - 1] = b.tickets[0];
        b.sigs[n - 1] = b.sigs[0];
        b.rands[n - 1] = b.rands[0];
        b.before = s.broker.getSenderInfo(b.sender);
    }

    function _checkBatch(Batch memory b, TicketBroker.RedemptionStatus[] memory statuses) private {
        uint256 n = b.tickets.length;
        TicketBroker.SenderInfo memory afterInfo = s.broker.getSenderInfo(b.sender);
        uint256 paid = (b.before.deposit - afterInfo.deposit) + (b.before.reserve - afterInfo.reserve);
        _check(paid <= b.faceValue * (n - 2), "a batch paid more than its winning tickets");
        bool firstSeated = s.bonding.isActiveInRound(b.tickets[0].recipient, b.tickets[0].creationRound);
        _check(
            statuses[n - 1]
                == (firstSeated ? TicketBroker.RedemptionStatus.TicketUsed : TicketBroker.RedemptionStatus.RecipientNotActive),
            "a repeat in a batch was not rejected"
        );
        _check(statuses[1] == TicketBroker.RedemptionStatus.NotWinning, "a losing ticket in a batch was not rejected");
        for (uint256 i = 0; i + 1 < n; ++i) {
            if (i == 1) continue;
            if (!s.bonding.isActiveInRound(b.tickets[i].recipient, b.tickets[i].creationRound)) {
                _check(statuses[i] == TicketBroker.RedemptionStatus.RecipientNotActive, "an unseated recipient was paid");
                continue;
            }
            _check(statuses[i] <= TicketBroker.RedemptionStatus.Unpaid, "a valid ticket in a batch was rejected");
            _redeemed.push(Redeemed({ticket: b.tickets[i], sig: b.sigs[i], recipientRand: b.rands[i]}));
            ++ghostTicketsPaid;
        }
        // Per recipient, from the contract's per-round claim view (a recipient may repeat).
        (, uint256 activeCount) = s.bonding.activeStatus(b.tickets[0].recipient);
        // The batch's later takes are not in the ghosts yet: count them back into the reserve.
        uint256 batchTake = b.before.reserve - afterInfo.reserve;
        uint256 reserveTaken;
        for (uint256 i = 0; i + 1 < n; ++i) {
            if (i == 1 || _seenBefore(b.tickets, i)) continue;
            address recipient = b.tickets[i].recipient;
            uint256 took = s.broker.claimedReserve(b.sender, recipient) - b.claimedBefore[i];
            reserveTaken += took;
            uint256 notYetCounted = batchTake > reserveTaken ? batchTake - reserveTaken : 0;
            _takeReserve(b.sender, recipient, took, afterInfo.reserve + notYetCounted, activeCount);
        }
        _check(reserveTaken == batchTake, "per-recipient reserve claims do not add up");
        ghostPaidToRecipients += paid;
        _paidInRound[s.rounds.currentRound()] += paid;
    }

    /// @dev Whether ticket i's recipient already appears among the batch's winning tickets before i.
    function _seenBefore(ITicketBroker.Ticket[] memory tickets, uint256 i) private pure returns (bool) {
        for (uint256 k = 0; k < i; ++k) {
            if (k != 1 && tickets[k].recipient == tickets[i].recipient) return true;
        }
        return false;
    }

    /// @dev Submits an already redeemed ticket again, alone or in a batch; it must be refused
    /// (as used, or as expired once its validity passed) and pay nothing.
    function replayTicket(uint256 index, bool inBatch) external {
        if (_redeemed.length == 0) return;
        Redeemed storage r = _redeemed[index % _redeemed.length];
        ITicketBroker.Ticket memory t = r.ticket;
        TicketBroker.SenderInfo memory before = s.broker.getSenderInfo(t.sender);
        bool expired = s.rounds.currentRound() > t.creationRound + s.broker.ticketValidityRounds();
        if (inBatch) {
            ITicketBroker.Ticket[] memory tickets = new ITicketBroker.Ticket[](1);
            bytes[] memory sigs = new bytes[](1);
            uint256[] memory rands = new uint256[](1);
            tickets[0] = t;
            sigs[0] = r.sig;
            rands[0] = r.recipientRand;
            TicketBroker.RedemptionStatus[] memory statuses = s.broker.batchRedeemWinningTickets(tickets, sigs, rands);
            TicketBroker.RedemptionStatus want =
                expired ? TicketBroker.RedemptionStatus.TicketExpired : TicketBroker.RedemptionStatus.TicketUsed;
            if (statuses[0] == want) ++ghostReplaysRejected;
            else ++ghostReplaysAccepted;
        } else {
            _expectRevert(
                address(this),
                address(s.broker),
                abi.encodeCall(TicketBroker.redeemWinningTicket, (t, r.sig, r.recipientRand)),
                expired ? TicketBroker.TicketBrokerTicketExpired.selector : TicketBroker.TicketBrokerTicketUsed.selector
            );
            ++ghostReplaysRejected;
        }
        TicketBroker.SenderInfo memory afterInfo = s.broker.getSenderInfo(t.sender);
        if (afterInfo.deposit != before.deposit || afterInfo.reserve != before.reserve) ++ghostReplaysAccepted;
    }

    // ------------------------------------------------------------ owner (the handler owns the
    // TicketBroker in the invariant suite): the validity stays below the unlock period

    function setUnlockPeriod(uint256 period) external {
        period = bound(period, 1, 6);
        bytes memory call = abi.encodeCall(TicketBroker.setUnlockPeriod, (period));
        if (period <= s.broker.ticketValidityRounds()) {
            _expectRevert(address(this), address(s.broker), call, TicketBroker.TicketBrokerValidityNotBelowUnlockPeriod.selector);
        } else if (_act(address(this), address(s.broker), call)) {
            _check(s.bonding.feeLockRounds() == period, "the fee lock does not follow the unlock period");
            if (period < ghostMinUnlockPeriod) ghostMinUnlockPeriod = period;
        }
    }

    function setTicketValidityRounds(uint256 rounds) external {
        rounds = bound(rounds, 1, 5);
        bytes memory call = abi.encodeCall(TicketBroker.setTicketValidityRounds, (rounds));
        if (rounds >= s.broker.unlockPeriod()) {
            _expectRevert(address(this), address(s.broker), call, TicketBroker.TicketBrokerValidityNotBelowUnlockPeriod.selector);
        } else {
            _act(address(this), address(s.broker), call);
        }
    }

    // ------------------------------------------------------------ registry

    /// @dev Only orchestrators seated now may publish.
    function publishServiceInfo(uint256 who, uint256 addrCount) external {
        address orchestrator = orchestrators[who % orchestrators.length];
        string[] memory addrs = new string[](bound(addrCount, 1, 3));
        for (uint256 i = 0; i < addrs.length; ++i) {
            addrs[i] = "/ip4/127.0.0.1/tcp/4001";
        }
        bytes memory call =
            abi.encodeCall(OrchestratorRegistry.setServiceInfo, ("12D3KooWPeer", addrs, "", hex"0102"));
        (bool active,) = s.bonding.activeStatus(orchestrator);
        if (!active) {
            _expectRevert(orchestrator, address(s.registry), call, OrchestratorRegistry.OrchestratorRegistryNotActive.selector);
        } else if (_act(orchestrator, address(s.registry), call)) {
            _check(s.registry.serviceInfo(orchestrator).multiaddrs.length == addrs.length, "entry not stored");
        }
    }

    function clearServiceInfo(uint256 who) external {
        address orchestrator = orchestrators[who % orchestrators.length];
        bytes memory call = abi.encodeCall(OrchestratorRegistry.clearServiceInfo, ());
        if (bytes(s.registry.serviceInfo(orchestrator).peerId).length == 0) {
            _expectRevert(orchestrator, address(s.registry), call, OrchestratorRegistry.OrchestratorRegistryNotListed.selector);
        } else {
            _act(orchestrator, address(s.registry), call);
        }
    }

    // ------------------------------------------------------------ internals

    function _fund(uint256 who, uint256 deposit, uint256 reserve, uint256 kind) private {
        address sender = senders[who % SENDERS];
        uint256 balance = s.token.balanceOf(sender);
        if (balance < 2) return;
        deposit = kind == 1 ? 0 : bound(deposit, 0, balance / 2);
        reserve = kind == 0 ? 0 : bound(reserve, 0, balance - deposit);
        bytes memory call = kind == 0
            ? abi.encodeCall(TicketBroker.fundDeposit, (deposit))
            : kind == 1
                ? abi.encodeCall(TicketBroker.fundReserve, (reserve))
                : abi.encodeCall(TicketBroker.fundDepositAndReserve, (deposit, reserve));
        if (deposit + reserve == 0) {
            _expectRevert(sender, address(s.broker), call, TicketBroker.TicketBrokerZeroAmount.selector);
            return;
        }
        if (!_act(sender, address(s.broker), call)) return;
        ghostFunded += deposit + reserve;
        ghostFundedBy[sender] += deposit + reserve;
    }

    /// @dev Records a reserve take and checks the allocation: in one round no recipient takes
    /// more of a sender's reserve than (its reserve before the round's claims) / active count,
    /// counted from the ghosts, not from the contract's own claim records.
    function _takeReserve(address sender, address recipient, uint256 amount, uint256 reserveLeft, uint256 activeCount)
        private
    {
        if (amount == 0) return;
        uint256 round = s.rounds.currentRound();
        ghostReserveTaken[sender][round][recipient] += amount;
        ghostReserveTakenInRound[sender][round] += amount;
        ghostPaidFromReserve += amount;
        uint256 allocation = activeCount == 0 ? 0 : (reserveLeft + ghostReserveTakenInRound[sender][round]) / activeCount;
        if (ghostReserveTaken[sender][round][recipient] > allocation) {
            ++ghostReserveOverdrawn;
            _fail("a recipient took more than its reserve allocation", "");
        }
    }

    /// @dev A ticket `age` rounds old (bounded by the validity), naming the creation round's
    /// stored hash or, when it was never initialized, zero.
    function _signed(uint256 si, address recipient, uint256 faceValue, uint256 winProb, uint256 rand, uint256 age)
        private
        returns (ITicketBroker.Ticket memory t, bytes memory sig)
    {
        uint256 round = s.rounds.currentRound();
        uint256 maxAge = s.broker.ticketValidityRounds();
        if (maxAge > round) maxAge = round;
        uint256 creationRound = round - bound(age, 0, maxAge);
        t = ITicketBroker.Ticket({
            recipient: recipient,
            sender: senders[si],
            faceValue: faceValue,
            winProb: winProb,
            senderNonce: ++_nonce,
            recipientRandHash: keccak256(abi.encode(rand)),
            creationRound: creationRound,
            creationRoundBlockHash: s.rounds.blockHashForRound(creationRound)
        });
        sig = Fixture.sign(s, _senderKeys[si], t);
    }
}
