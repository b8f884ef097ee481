// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BondingManager} from "../../../contracts/bonding/BondingManager.sol";
import {ITicketBroker} from "../../../contracts/interfaces/ITicketBroker.sol";
import {TicketBroker} from "../../../contracts/payments/TicketBroker.sol";
import {Fixture, Segmint} from "../utils/Fixture.sol";
import {HandlerBase} from "../utils/Test.sol";

/// @title Drives every state-changing entry point of the protocol with bounded random inputs
/// and keeps "ghost" totals that the invariants compare against the contracts' own accounting.
/// @dev Each action picks its actor from fixed sets and only makes calls that should succeed
/// (or, for replays, calls that must fail). The invariant runner ignores a reverting handler
/// call unless failOnRevert is configured, so the handler never relies on reverts: it makes
/// its calls through `_act`, and records an unexpected revert or a failed per-call check in
/// `violation`, which an invariant then asserts is empty.
contract ProtocolHandler is HandlerBase {
    uint256 public constant ORCHESTRATORS = 4;
    uint256 public constant DELEGATORS = 4;
    uint256 public constant SENDERS = 2;
    uint256 private constant _SENDER_KEY_BASE = 0xA11CE;

    Segmint internal s;
    address[] public orchestrators;
    address[] public delegators;
    uint256[] internal _senderKeys;
    address[] public senders;

    // Ghost totals.
    uint256 public ghostMinted;
    uint256 public ghostRewardCalls;
    uint256 public ghostFunded;
    uint256 public ghostPaidToRecipients;
    uint256 public ghostWithdrawnBySenders;
    uint256 public ghostFeesWithdrawn;
    uint256 public ghostSettlements;
    uint256 public ghostTicketsPaid;
    uint256 public ghostReplaysAccepted;
    uint256 public ghostReplaysRejected;
    uint256 private _nonce;
    /// @notice The first broken per-call expectation (empty while none).
    string public violation;
    uint256 public violations;

    struct Redeemed {
        ITicketBroker.Ticket ticket;
        bytes sig;
        uint256 recipientRand;
    }

    Redeemed[] internal _redeemed;
    mapping(uint256 round => uint256) internal _mintedInRound;
    /// @dev Each round's inflation as the Minter reported it before the round's first mint.
    mapping(uint256 round => uint256) internal _roundInflation;
    uint256 public ghostMaxInflation = Fixture.INFLATION_PER_ROUND;

    constructor(Segmint memory segmint, address[] memory orchestrators_, address[] memory delegators_) {
        s = segmint;
        orchestrators = orchestrators_;
        delegators = delegators_;
        for (uint256 i = 0; i < SENDERS; ++i) {
            uint256 key = _SENDER_KEY_BASE + i;
            _senderKeys.push(key);
            senders.push(vm.addr(key));
        }
    }

    // ------------------------------------------------------------ views for the invariants

    /// @dev Every account that may hold tokens besides the contracts and the deployer.
    function actors() external view returns (address[] memory all) {
        all = new address[](ORCHESTRATORS + DELEGATORS + SENDERS);
        uint256 k;
        for (uint256 i = 0; i < ORCHESTRATORS; ++i) all[k++] = orchestrators[i];
        for (uint256 i = 0; i < DELEGATORS; ++i) all[k++] = delegators[i];
        for (uint256 i = 0; i < SENDERS; ++i) all[k++] = senders[i];
    }

    function redeemedCount() external view returns (uint256) {
        return _redeemed.length;
    }

    // ------------------------------------------------------------ bonding

    function bond(uint256 who, uint256 to, uint256 amount) external {
        address delegator = delegators[who % DELEGATORS];
        address orchestrator = orchestrators[to % ORCHESTRATORS];
        uint256 balance = s.token.balanceOf(delegator);
        if (balance == 0) return;
        amount = bound(amount, 1, balance);
        if (!_act(delegator, address(s.bonding), abi.encodeCall(BondingManager.bond, (amount, orchestrator)))) return;
        ++ghostSettlements;
    }

    function selfBond(uint256 who, uint256 amount) external {
        address orchestrator = orchestrators[who % ORCHESTRATORS];
        uint256 balance = s.token.balanceOf(orchestrator);
        if (balance == 0) return;
        amount = bound(amount, 1, balance);
        if (!_act(orchestrator, address(s.bonding), abi.encodeCall(BondingManager.bond, (amount, orchestrator)))) return;
        ++ghostSettlements;
    }

    function unbond(uint256 who, uint256 amount) external {
        address account = _bondedAccount(who);
        BondingManager.DelegatorInfo memory info = s.bonding.delegatorInfo(account);
        if (info.shares == 0 || info.stake == 0) return;
        amount = bound(amount, 1, info.stake);
        if (!_act(account, address(s.bonding), abi.encodeCall(BondingManager.unbond, (amount)))) return;
        ++ghostSettlements;
    }

    function rebond(uint256 who, uint256 lockSeed) external {
        address account = _bondedAccount(who);
        (bool found, uint256 lockId,) = _findLock(account, lockSeed, false);
        if (!found) return;
        if (!_act(account, address(s.bonding), abi.encodeCall(BondingManager.rebond, (lockId)))) return;
        ++ghostSettlements;
    }

    function withdrawStake(uint256 who, uint256 lockSeed) external {
        address account = _bondedAccount(who);
        (bool found, uint256 lockId,) = _findLock(account, lockSeed, true);
        if (!found) return;
        if (!_act(account, address(s.bonding), abi.encodeCall(BondingManager.withdrawStake, (lockId)))) return;
    }

    function reward(uint256 who) external {
        address orchestrator = orchestrators[who % ORCHESTRATORS];
        uint256 round = s.rounds.currentRound();
        BondingManager.OrchestratorInfo memory info = s.bonding.getOrchestrator(orchestrator);
        if (!info.active || info.lastRewardRound == round) return;
        uint256 mintableBefore = s.minter.mintableInRound(round);
        uint256 supplyBefore = s.token.totalSupply();
        if (!_act(orchestrator, address(s.bonding), abi.encodeCall(BondingManager.reward, ()))) return;
        // The Minter's own bookkeeping, not the token's supply, is what the ghost follows.
        uint256 minted = mintableBefore - s.minter.mintableInRound(round);
        if (_mintedInRound[round] == 0 && _roundInflation[round] == 0) _roundInflation[round] = mintableBefore;
        _check(s.token.totalSupply() - supplyBefore == minted, "supply grew by other than the Minter's mint");
        _mintedInRound[round] += minted;
        // The round's amount is fixed by its first mint: a later owner change must not alter it.
        _check(_mintedInRound[round] <= _roundInflation[round], "a round minted more than its inflation");
        ghostMinted += minted;
        ++ghostRewardCalls;
    }

    // ------------------------------------------------------------ owner (the handler owns
    // the Minter and the BondingManager in the invariant suite)

    function setInflation(uint256 amount) external {
        amount = bound(amount, 0, 5_000 * Fixture.TOKEN);
        s.minter.setInflationPerRound(amount);
        if (amount > ghostMaxInflation) ghostMaxInflation = amount;
    }

    function setMaxActiveSetSize(uint256 size) external {
        uint256 members = s.bonding.nextActiveSet().length;
        size = bound(size, members == 0 ? 1 : members, 5);
        if (!_act(address(this), address(s.bonding), abi.encodeCall(BondingManager.setMaxActiveSetSize, (size)))) return;
    }

    function setUnbondingPeriod(uint256 period) external {
        period = bound(period, 1, 4);
        s.bonding.setUnbondingPeriod(period);
    }

    /// @dev Orchestrators change their cuts mid-way; earnings so far must be unaffected.
    function updateParams(uint256 who, uint256 rewardCut, uint256 feeShare) external {
        address orchestrator = orchestrators[who % ORCHESTRATORS];
        rewardCut = bound(rewardCut, 0, Fixture.PPM);
        feeShare = bound(feeShare, 0, Fixture.PPM);
        uint256 stake = s.bonding.pendingStake(orchestrator);
        uint256 fees = s.bonding.pendingFees(orchestrator);
        if (!_act(orchestrator, address(s.bonding), abi.encodeCall(BondingManager.setOrchestratorParams, (rewardCut, feeShare)))) return;
        _check(s.bonding.pendingStake(orchestrator) == stake, "setOrchestratorParams changed the stake");
        _check(s.bonding.pendingFees(orchestrator) == fees, "setOrchestratorParams changed the fees");
    }

    function claimEarnings(uint256 who) external {
        address account = _bondedAccount(who);
        if (s.bonding.delegatorInfo(account).delegate == address(0)) return;
        uint256 pending = s.bonding.pendingFees(account);
        if (!_act(account, address(s.bonding), abi.encodeCall(BondingManager.claimEarnings, ()))) return;
        _check(s.bonding.pendingFees(account) == pending, "claimEarnings changed the withdrawable fees");
        ++ghostSettlements;
    }

    function withdrawFees(uint256 who, uint256 amount) external {
        address account = _bondedAccount(who);
        uint256 fees = s.bonding.pendingFees(account);
        if (fees == 0) return;
        amount = bound(amount, 1, fees);
        uint256 before = s.token.balanceOf(account);
        if (!_act(account, address(s.bonding), abi.encodeCall(BondingManager.withdrawFees, (account, amount)))) return;
        _check(s.token.balanceOf(account) - before == amount, "withdrawFees paid a different amount");
        ghostFeesWithdrawn += amount;
        ++ghostSettlements;
    }

    // ------------------------------------------------------------ senders

    function fundDepositAndReserve(uint256 who, uint256 deposit, uint256 reserve) external {
        address sender = senders[who % SENDERS];
        uint256 balance = s.token.balanceOf(sender);
        if (balance < 2) return;
        deposit = bound(deposit, 0, balance / 2);
        reserve = bound(reserve, 0, balance - deposit);
        if (deposit + reserve == 0) return;
        if (!_act(sender, address(s.broker), abi.encodeCall(TicketBroker.fundDepositAndReserve, (deposit, reserve)))) return;
        ghostFunded += deposit + reserve;
    }

    function unlock(uint256 who) external {
        address sender = senders[who % SENDERS];
        TicketBroker.SenderInfo memory info = s.broker.getSenderInfo(sender);
        if (info.withdrawRound != 0 || info.deposit + info.reserve == 0) return;
        if (!_act(sender, address(s.broker), abi.encodeCall(TicketBroker.unlock, ()))) return;
    }

    function cancelUnlock(uint256 who) external {
        address sender = senders[who % SENDERS];
        if (!s.broker.isUnlockInProgress(sender)) return;
        if (!_act(sender, address(s.broker), abi.encodeCall(TicketBroker.cancelUnlock, ()))) return;
    }

    function withdraw(uint256 who) external {
        address sender = senders[who % SENDERS];
        TicketBroker.SenderInfo memory info = s.broker.getSenderInfo(sender);
        if (info.withdrawRound == 0 || s.rounds.currentRound() < info.withdrawRound) return;
        if (info.deposit + info.reserve == 0) return;
        uint256 before = s.token.balanceOf(sender);
        if (!_act(sender, address(s.broker), abi.encodeCall(TicketBroker.withdraw, ()))) return;
        _check(s.token.balanceOf(sender) - before == info.deposit + info.reserve, "withdraw paid other than deposit+reserve");
        ghostWithdrawnBySenders += info.deposit + info.reserve;
    }

    /// @dev Redeems a fresh winning ticket; whatever it pays must leave the sender's funds.
    function redeemTicket(uint256 from, uint256 to, uint256 faceValue, uint256 rand) external {
        uint256 si = from % SENDERS;
        address sender = senders[si];
        address recipient = orchestrators[to % ORCHESTRATORS];
        faceValue = bound(faceValue, 1, 50_000 * Fixture.TOKEN);
        s.rounds.initializeRound();
        ITicketBroker.Ticket memory t =
            Fixture.ticket(s, sender, recipient, faceValue, type(uint256).max, ++_nonce, rand);
        bytes memory sig = Fixture.sign(s, _senderKeys[si], t);
        TicketBroker.SenderInfo memory before = s.broker.getSenderInfo(sender);
        TicketBroker.RedemptionStatus status;
        bool seated = s.bonding.isActiveInRound(recipient, t.creationRound);
        try s.broker.redeemWinningTicket(t, sig, rand) returns (TicketBroker.RedemptionStatus result) {
            status = result;
            _check(seated, "a recipient without a seat in the creation round was paid");
        } catch (bytes memory reason) {
            bool refused = bytes4(reason) == TicketBroker.TicketBrokerRecipientNotActive.selector;
            if (!seated && refused) return;
            _fail("redeemWinningTicket reverted on a valid winning ticket", reason);
            return;
        }
        TicketBroker.SenderInfo memory afterInfo = s.broker.getSenderInfo(sender);
        uint256 paid = (before.deposit - afterInfo.deposit) + (before.reserve - afterInfo.reserve);
        _check(paid <= faceValue, "a ticket paid more than its face value");
        if (status == TicketBroker.RedemptionStatus.Paid) _check(paid == faceValue, "Paid but not in full");
        if (status == TicketBroker.RedemptionStatus.Unpaid) _check(paid == 0, "Unpaid but paid");
        _check(s.broker.isTicketUsed(s.broker.getTicketHash(t)), "a redeemed ticket is not marked used");
        ghostPaidToRecipients += paid;
        ++ghostTicketsPaid;
        _redeemed.push(Redeemed({ticket: t, sig: sig, recipientRand: rand}));
    }

    /// @dev A batch of fresh tickets with one of them repeated: the repeat must pay nothing.
    function redeemBatch(uint256 from, uint256 to, uint256 faceValue, uint8 size) external {
        uint256 si = from % SENDERS;
        uint256 n = bound(size, 2, 5);
        faceValue = bound(faceValue, 1, 20_000 * Fixture.TOKEN);
        s.rounds.initializeRound();
        ITicketBroker.Ticket[] memory tickets = new ITicketBroker.Ticket[](n);
        bytes[] memory sigs = new bytes[](n);
        uint256[] memory rands = new uint256[](n);
        for (uint256 i = 0; i + 1 < n; ++i) {
            address recipient = orchestrators[(to + i) % ORCHESTRATORS];
            tickets[i] = Fixture.ticket(s, senders[si], recipient, faceValue, type(uint256).max, ++_nonce, i);
            sigs[i] = Fixture.sign(s, _senderKeys[si], tickets[i]);
            rands[i] = i;
        }
        tickets[n - 1] = tickets[0];
        sigs[n - 1] = sigs[0];
        rands[n - 1] = rands[0];
        TicketBroker.SenderInfo memory before = s.broker.getSenderInfo(senders[si]);
        TicketBroker.RedemptionStatus[] memory statuses = s.broker.batchRedeemWinningTickets(tickets, sigs, rands);
        TicketBroker.SenderInfo memory afterInfo = s.broker.getSenderInfo(senders[si]);
        bool firstSeated = s.bonding.isActiveInRound(tickets[0].recipient, tickets[0].creationRound);
        _check(
            statuses[n - 1]
                == (firstSeated ? TicketBroker.RedemptionStatus.TicketUsed : TicketBroker.RedemptionStatus.RecipientNotActive),
            "a repeat in a batch was not rejected"
        );
        uint256 paid = (before.deposit - afterInfo.deposit) + (before.reserve - afterInfo.reserve);
        _check(paid <= faceValue * (n - 1), "a batch paid more than its distinct tickets");
        ghostPaidToRecipients += paid;
        for (uint256 i = 0; i + 1 < n; ++i) {
            if (!s.bonding.isActiveInRound(tickets[i].recipient, tickets[i].creationRound)) {
                _check(statuses[i] == TicketBroker.RedemptionStatus.RecipientNotActive, "an unseated recipient was paid");
                continue;
            }
            _check(statuses[i] <= TicketBroker.RedemptionStatus.Unpaid, "a valid ticket in a batch was rejected");
            _redeemed.push(Redeemed({ticket: tickets[i], sig: sigs[i], recipientRand: rands[i]}));
            ++ghostTicketsPaid;
        }
    }

    /// @dev Submits an already redeemed ticket again, alone or in a batch; it must never pay.
    function replayTicket(uint256 index, bool inBatch) external {
        if (_redeemed.length == 0) return;
        Redeemed storage r = _redeemed[index % _redeemed.length];
        ITicketBroker.Ticket memory t = r.ticket;
        TicketBroker.SenderInfo memory before = s.broker.getSenderInfo(t.sender);
        if (inBatch) {
            ITicketBroker.Ticket[] memory tickets = new ITicketBroker.Ticket[](1);
            bytes[] memory sigs = new bytes[](1);
            uint256[] memory rands = new uint256[](1);
            tickets[0] = t;
            sigs[0] = r.sig;
            rands[0] = r.recipientRand;
            TicketBroker.RedemptionStatus[] memory statuses = s.broker.batchRedeemWinningTickets(tickets, sigs, rands);
            // Expired tickets are rejected before the replay check; either way nothing is paid.
            if (statuses[0] <= TicketBroker.RedemptionStatus.Unpaid) ++ghostReplaysAccepted;
            else ++ghostReplaysRejected;
        } else {
            try s.broker.redeemWinningTicket(t, r.sig, r.recipientRand) {
                ++ghostReplaysAccepted;
            } catch {
                ++ghostReplaysRejected;
            }
        }
        TicketBroker.SenderInfo memory afterInfo = s.broker.getSenderInfo(t.sender);
        if (afterInfo.deposit != before.deposit || afterInfo.reserve != before.reserve) ++ghostReplaysAccepted;
    }

    // ------------------------------------------------------------ time

    function advanceRounds(uint256 rounds) external {
        rounds = bound(rounds, 1, 3);
        for (uint256 i = 0; i < rounds; ++i) {
            Fixture.nextRound(s);
        }
    }

    function advanceBlocks(uint256 blocks) external {
        blocks = bound(blocks, 1, Fixture.ROUND_LENGTH - 1);
        vm.roll(block.number + blocks);
    }

    // ------------------------------------------------------------ internals

    /// @dev Calls `target` as `account`. A revert is a violation unless it is the one revert a
    /// bounded input can legitimately hit: an amount worth less than one share of the pool.
    function _act(address account, address target, bytes memory data) private returns (bool ok) {
        vm.prank(account);
        bytes memory reason;
        (ok, reason) = target.call(data);
        if (!ok && bytes4(reason) != BondingManager.BondingManagerAmountTooSmall.selector) {
            _fail("unexpected revert", reason);
        }
    }

    function _check(bool condition, string memory message) private {
        if (!condition) _fail(message, "");
    }

    function _fail(string memory message, bytes memory reason) private {
        if (violations == 0) violation = string.concat(message, " ", _hex(reason));
        ++violations;
    }

    function _hex(bytes memory data) private pure returns (string memory) {
        bytes memory digits = "0123456789abcdef";
        uint256 n = data.length < 68 ? data.length : 68;
        bytes memory out = new bytes(2 * n);
        for (uint256 i = 0; i < n; ++i) {
            out[2 * i] = digits[uint8(data[i]) >> 4];
            out[2 * i + 1] = digits[uint8(data[i]) & 0x0f];
        }
        return string(out);
    }

    /// @dev Delegators and orchestrators alike (seed picks one of the 8).
    function _bondedAccount(uint256 seed) private view returns (address) {
        uint256 i = seed % (ORCHESTRATORS + DELEGATORS);
        return i < ORCHESTRATORS ? orchestrators[i] : delegators[i - ORCHESTRATORS];
    }

    /// @dev The first live lock at or after lockSeed (mod count); when `withdrawable`, only
    /// locks whose withdraw round has come.
    function _findLock(address account, uint256 lockSeed, bool withdrawable)
        private
        view
        returns (bool found, uint256 lockId, uint256 amount)
    {
        uint256 count = s.bonding.delegatorInfo(account).nextUnbondingLockId;
        if (count == 0) return (false, 0, 0);
        uint256 round = s.rounds.currentRound();
        for (uint256 k = 0; k < count; ++k) {
            uint256 id = (lockSeed + k) % count;
            (uint256 lockAmount, uint256 withdrawRound) = s.bonding.unbondingLock(account, id);
            if (lockAmount == 0) continue;
            if (withdrawable && round < withdrawRound) continue;
            return (true, id, lockAmount);
        }
    }
}
