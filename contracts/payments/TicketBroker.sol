// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IBondingManager} from "../interfaces/IBondingManager.sol";
import {IRoundsManager} from "../interfaces/IRoundsManager.sol";
import {ITicketBroker} from "../interfaces/ITicketBroker.sol";

/**
 * @title TicketBroker
 * @notice Probabilistic micropayments in the Segmint token. A sender funds a deposit (pays
 * winning tickets) and a reserve (backs them when the deposit runs out). Tickets are EIP-712
 * typed data (domain "Segmint", version "1", chain id, this contract), so a signature is bound
 * to one chain and one deployment. A winning ticket pays only a recipient that was in the active
 * set in the ticket's creation round: its face value comes from the deposit, then from the
 * reserve, where each orchestrator active in the current round may claim at most
 * `reserve at its first claim of the round / activeOrchestratorCount` per sender per round; any
 * shortfall is emitted. A sender's funds leave this contract only as such payments or through
 * unlock() and withdraw() after the unlock period.
 *
 * Rounds need no keeper: a ticket may name any creation round up to the current one (senders
 * use the current round, computed from the block number) and either that round's stored block
 * hash or zero when it was never initialized.
 *
 * Fee custody: paid fees stay in this contract and are credited to the recipient's pool in the
 * BondingManager, which pays them out through `transferFees`. Not moving tokens on every
 * redemption saves a token transfer (about 15k gas) per winning ticket. Hence this contract's
 * token balance = sum of deposits + sum of reserves + fees credited and not yet withdrawn.
 */
contract TicketBroker is ITicketBroker, EIP712, Ownable2Step {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    bytes32 private constant _TICKET_TYPEHASH = keccak256(
        "Ticket(address recipient,address sender,uint256 faceValue,uint256 winProb,uint256 senderNonce,bytes32 recipientRandHash,uint256 creationRound,bytes32 creationRoundBlockHash)"
    );

    /// @notice The outcome of one ticket's redemption. The first three mark the ticket used.
    enum RedemptionStatus {
        Paid,
        PaidPartially,
        Unpaid,
        InvalidRecipient,
        InvalidRecipientRand,
        InvalidCreationRound,
        TicketExpired,
        TicketUsed,
        InvalidSignature,
        NotWinning,
        RecipientNotActive
    }

    /// @dev Deposit and reserve share a slot: redemption reads both with one SLOAD.
    struct Sender {
        uint128 deposit;
        uint128 reserve;
    }

    /// @dev A sender's rounds. `seen` is set at the first funding so that later writes to this
    /// slot (unlock, the first reserve claim of a round) rewrite it instead of filling a fresh
    /// slot (about 17k gas less each).
    struct SenderRounds {
        uint64 withdrawRound; // zero when no unlock is in progress
        uint64 claimRound; // the round `claimedInRound` counts
        uint120 claimedInRound;
        bool seen;
    }

    /// @dev Reserve `claimed` by one recipient from one sender in `round` (older rounds are
    /// overwritten: only the current round's claims matter).
    struct ReserveClaim {
        uint64 round;
        uint128 claimed;
    }

    /// @notice A sender's funds and unlock state.
    struct SenderInfo {
        uint256 deposit;
        uint256 reserve;
        /// Zero when no unlock is in progress.
        uint256 withdrawRound;
        /// Reserve paid out to all recipients in the current round.
        uint256 reserveClaimedInCurrentRound;
    }

    IERC20 private immutable _token;
    IRoundsManager private immutable _roundsManager;
    IBondingManager private immutable _bondingManager;
    uint64 private _unlockPeriod;
    uint64 private _ticketValidityRounds;
    mapping(address sender => Sender) private _senders;
    mapping(address sender => SenderRounds) private _senderRounds;
    mapping(bytes32 ticketHash => bool) private _usedTickets;
    mapping(address sender => mapping(address recipient => ReserveClaim)) private _reserveClaims;

    /// @notice The unlock period changed.
    event UnlockPeriodUpdated(uint256 unlockPeriod);
    /// @notice The ticket validity changed.
    event TicketValidityRoundsUpdated(uint256 ticketValidityRounds);
    /// @notice `sender` added `amount` to its deposit, now `deposit`.
    event DepositFunded(address indexed sender, uint256 amount, uint256 deposit);
    /// @notice `sender` added `amount` to its reserve, now `reserve`.
    event ReserveFunded(address indexed sender, uint256 amount, uint256 reserve);
    /// @notice `sender` started an unlock; it can withdraw from `withdrawRound`.
    event UnlockStarted(address indexed sender, uint256 withdrawRound);
    /// @notice `sender` cancelled its unlock.
    event UnlockCancelled(address indexed sender);
    /// @notice `sender` withdrew its `deposit` and `reserve`.
    event Withdrawn(address indexed sender, uint256 deposit, uint256 reserve);
    /// @notice A winning ticket was redeemed; it pays `paidFromDeposit + paidFromReserve` of `faceValue`.
    event WinningTicketRedeemed(
        bytes32 indexed ticketHash,
        address indexed sender,
        address indexed recipient,
        uint256 faceValue,
        uint256 paidFromDeposit,
        uint256 paidFromReserve
    );
    /// @notice A winning ticket could not be paid in full: `unpaid` of its face value is lost.
    event TicketPaidPartially(
        bytes32 indexed ticketHash, address indexed sender, address indexed recipient, uint256 unpaid
    );
    /// @notice Ticket `index` of a batch was rejected with `status`; nothing changed for it.
    event TicketRedemptionFailed(bytes32 indexed ticketHash, uint256 index, RedemptionStatus status);
    /// @notice The BondingManager paid `amount` of held fees to `to`.
    event FeesTransferred(address indexed to, uint256 amount);

    /// @notice A constructor address was zero.
    error TicketBrokerInvalidAddress();
    /// @notice `caller` is not the BondingManager.
    error TicketBrokerUnauthorizedCaller(address caller);
    /// @notice An amount of zero was given where a positive amount is required.
    error TicketBrokerZeroAmount();
    /// @notice The unlock period must be between 1 and 2^32 - 1 rounds.
    error TicketBrokerInvalidUnlockPeriod(uint256 unlockPeriod);
    /// @notice The ticket validity must be between 1 and 2^32 - 1 rounds.
    error TicketBrokerInvalidTicketValidity(uint256 ticketValidityRounds);
    /// @notice The ticket validity must stay below the unlock period, or a ticket could still be
    /// redeemable once its sender may withdraw.
    error TicketBrokerValidityNotBelowUnlockPeriod(uint256 ticketValidityRounds, uint256 unlockPeriod);
    /// @notice `sender` has neither deposit nor reserve.
    error TicketBrokerEmptyDepositAndReserve(address sender);
    /// @notice `sender` is already unlocking, until `withdrawRound`.
    error TicketBrokerAlreadyUnlocking(address sender, uint256 withdrawRound);
    /// @notice `sender` has no unlock in progress.
    error TicketBrokerNotUnlocking(address sender);
    /// @notice `sender` can withdraw from `withdrawRound`; it is `currentRound`.
    error TicketBrokerUnlockPeriodNotOver(address sender, uint256 withdrawRound, uint256 currentRound);
    /// @notice The ticket's recipient is the zero address.
    error TicketBrokerInvalidRecipient(address recipient);
    /// @notice The revealed recipientRand does not hash to `recipientRandHash`.
    error TicketBrokerInvalidRecipientRand(bytes32 recipientRandHash, uint256 recipientRand);
    /// @notice `creationRound` is after the current round, or `given` is neither zero nor the
    /// round's stored block hash `expected`.
    error TicketBrokerInvalidCreationRound(uint256 creationRound, bytes32 expected, bytes32 given);
    /// @notice A ticket created in `creationRound` is no longer valid in `currentRound`.
    error TicketBrokerTicketExpired(uint256 creationRound, uint256 currentRound);
    /// @notice Ticket `ticketHash` was already redeemed.
    error TicketBrokerTicketUsed(bytes32 ticketHash);
    /// @notice The signature is malformed or not by `sender`.
    error TicketBrokerInvalidSignature(address sender);
    /// @notice Ticket `ticketHash` does not win.
    error TicketBrokerTicketNotWinning(bytes32 ticketHash);
    /// @notice `recipient` was not in the active set in `creationRound`, so the ticket cannot pay it.
    error TicketBrokerRecipientNotActive(address recipient, uint256 creationRound);
    /// @notice The batch arrays differ in length.
    error TicketBrokerBatchLengthMismatch(uint256 tickets, uint256 signatures, uint256 recipientRands);

    /**
     * @param unlockPeriod_ Rounds between unlock() and the earliest withdraw().
     * @param ticketValidityRounds_ Rounds after its creation round in which a ticket can be
     * redeemed; below `unlockPeriod_`.
     */
    constructor(
        address initialOwner,
        IERC20 token_,
        IRoundsManager roundsManager_,
        IBondingManager bondingManager_,
        uint256 unlockPeriod_,
        uint256 ticketValidityRounds_
    ) EIP712("Segmint", "1") Ownable(initialOwner) {
        if (
            address(token_) == address(0) || address(roundsManager_) == address(0)
                || address(bondingManager_) == address(0)
        ) revert TicketBrokerInvalidAddress();
        _token = token_;
        _roundsManager = roundsManager_;
        _bondingManager = bondingManager_;
        _setUnlockPeriod(unlockPeriod_);
        _setTicketValidityRounds(ticketValidityRounds_);
    }

    // ---------------------------------------------------------------- owner

    /**
     * @notice Sets the unlock period in rounds; applies to unlocks started afterwards, and to
     * fees settled in the BondingManager afterwards (they wait as long).
     * Requirements:
     * - the caller is the owner; `period` is below 2^32 and above the ticket validity;
     * - the BondingManager is wired to this contract.
     */
    function setUnlockPeriod(uint256 period) external onlyOwner {
        _setUnlockPeriod(period);
        // Fees paid from deposits and reserves wait as long as an unlock does.
        _bondingManager.setFeeLockRounds(period);
    }

    /**
     * @notice Sets how many rounds after its creation round a ticket stays redeemable.
     * Requirements:
     * - the caller is the owner; `rounds` is at least 1 and below the unlock period.
     */
    function setTicketValidityRounds(uint256 rounds) external onlyOwner {
        _setTicketValidityRounds(rounds);
    }

    // ---------------------------------------------------------------- senders

    /**
     * @notice Adds `amount` (transferred from the caller) to the caller's deposit.
     * Requirements:
     * - `amount` is positive; the caller approved it to this contract.
     */
    function fundDeposit(uint256 amount) external {
        _fund(amount, 0);
    }

    /**
     * @notice Adds `amount` (transferred from the caller) to the caller's reserve.
     * Requirements:
     * - `amount` is positive; the caller approved it to this contract.
     */
    function fundReserve(uint256 amount) external {
        _fund(0, amount);
    }

    /**
     * @notice Adds to the caller's deposit and reserve with one token transfer.
     * Requirements:
     * - at least one amount is positive; the caller approved their sum to this contract.
     */
    function fundDepositAndReserve(uint256 depositAmount, uint256 reserveAmount) external {
        _fund(depositAmount, reserveAmount);
    }

    /**
     * @notice Starts the unlock period, after which the caller can withdraw its deposit and
     * reserve. Tickets can still be redeemed against them until then.
     * Requirements:
     * - the caller has a deposit or a reserve; no unlock is in progress.
     */
    function unlock() external {
        Sender memory s = _senders[msg.sender];
        if (s.deposit == 0 && s.reserve == 0) revert TicketBrokerEmptyDepositAndReserve(msg.sender);
        SenderRounds storage rounds = _senderRounds[msg.sender];
        uint256 current = rounds.withdrawRound;
        if (current != 0) revert TicketBrokerAlreadyUnlocking(msg.sender, current);
        uint256 withdrawRound = _roundsManager.currentRound() + _unlockPeriod;
        rounds.withdrawRound = withdrawRound.toUint64();
        emit UnlockStarted(msg.sender, withdrawRound);
    }

    /**
     * @notice Cancels the caller's unlock.
     * Requirements:
     * - an unlock is in progress.
     */
    function cancelUnlock() external {
        SenderRounds storage rounds = _senderRounds[msg.sender];
        if (rounds.withdrawRound == 0) revert TicketBrokerNotUnlocking(msg.sender);
        rounds.withdrawRound = 0;
        emit UnlockCancelled(msg.sender);
    }

    /**
     * @notice Withdraws the caller's whole deposit and reserve.
     * Requirements:
     * - the caller has a deposit or a reserve;
     * - an unlock is in progress and its withdraw round has come.
     */
    function withdraw() external {
        Sender memory s = _senders[msg.sender];
        if (s.deposit == 0 && s.reserve == 0) revert TicketBrokerEmptyDepositAndReserve(msg.sender);
        SenderRounds storage rounds = _senderRounds[msg.sender];
        uint256 withdrawRound = rounds.withdrawRound;
        if (withdrawRound == 0) revert TicketBrokerNotUnlocking(msg.sender);
        uint256 round = _roundsManager.currentRound();
        if (round < withdrawRound) revert TicketBrokerUnlockPeriodNotOver(msg.sender, withdrawRound, round);
        delete _senders[msg.sender];
        rounds.withdrawRound = 0;
        emit Withdrawn(msg.sender, s.deposit, s.reserve);
        _token.safeTransfer(msg.sender, uint256(s.deposit) + s.reserve);
    }

    // ---------------------------------------------------------------- redemption

    /**
     * @notice Redeems a winning ticket. Anyone may submit it; funds always go to the ticket's
     * recipient (credited to its pool in the BondingManager). The ticket is marked used even
     * when nothing could be paid, so it can never be replayed.
     * @param sig The sender's 65-byte (r, s, v) signature of the ticket's EIP-712 digest.
     * @param recipientRand The recipient's secret whose keccak256 is `recipientRandHash`.
     * @return status Paid, PaidPartially or Unpaid.
     * Requirements:
     * - the recipient is not zero, and was in the active set in `creationRound`;
     * - `recipientRand` matches `recipientRandHash`;
     * - `creationRound` is at most the current round, and `creationRoundBlockHash` is zero or
     *   the round's stored block hash;
     * - the current round is at most `creationRound + ticketValidityRounds`;
     * - the ticket was not redeemed before;
     * - `sig` is the sender's valid signature, and the ticket wins.
     */
    function redeemWinningTicket(Ticket calldata ticket, bytes calldata sig, uint256 recipientRand)
        external
        returns (RedemptionStatus status)
    {
        bytes32 ticketHash;
        (status, ticketHash) = _redeem(ticket, sig, recipientRand);
        if (status > RedemptionStatus.Unpaid) _revertFor(status, ticket, ticketHash, recipientRand);
    }

    /**
     * @notice Redeems several tickets; a bad ticket never reverts the batch. Each rejected
     * ticket emits TicketRedemptionFailed; the returned statuses let eth_call preview a batch.
     * Requirements:
     * - the three arrays have the same length.
     */
    function batchRedeemWinningTickets(
        Ticket[] calldata tickets,
        bytes[] calldata sigs,
        uint256[] calldata recipientRands
    ) external returns (RedemptionStatus[] memory statuses) {
        uint256 n = tickets.length;
        if (sigs.length != n || recipientRands.length != n) {
            revert TicketBrokerBatchLengthMismatch(n, sigs.length, recipientRands.length);
        }
        statuses = new RedemptionStatus[](n);
        for (uint256 i = 0; i < n; ++i) {
            (RedemptionStatus status, bytes32 ticketHash) = _redeem(tickets[i], sigs[i], recipientRands[i]);
            statuses[i] = status;
            if (status > RedemptionStatus.Unpaid) emit TicketRedemptionFailed(ticketHash, i, status);
        }
    }

    /**
     * @notice Pays `amount` of the fees this contract holds to `to`.
     * Requirements:
     * - the caller is the BondingManager (which checked the fee balance).
     */
    function transferFees(address to, uint256 amount) external {
        if (msg.sender != address(_bondingManager)) revert TicketBrokerUnauthorizedCaller(msg.sender);
        emit FeesTransferred(to, amount);
        _token.safeTransfer(to, amount);
    }

    // ---------------------------------------------------------------- views

    /// @notice The payment token.
    function token() external view returns (address) {
        return address(_token);
    }

    /// @notice The round clock.
    function roundsManager() external view returns (address) {
        return address(_roundsManager);
    }

    /// @notice The BondingManager that receives fees.
    function bondingManager() external view returns (address) {
        return address(_bondingManager);
    }

    /// @inheritdoc ITicketBroker
    function unlockPeriod() external view returns (uint256) {
        return _unlockPeriod;
    }

    /// @notice Rounds after its creation round in which a ticket can be redeemed.
    function ticketValidityRounds() external view returns (uint256) {
        return _ticketValidityRounds;
    }

    /// @notice `sender`'s deposit, reserve, unlock state and reserve claimed this round.
    function getSenderInfo(address sender) external view returns (SenderInfo memory info) {
        Sender memory s = _senders[sender];
        SenderRounds memory rounds = _senderRounds[sender];
        bool claimedThisRound = rounds.claimRound == _roundsManager.currentRound();
        info = SenderInfo({
            deposit: s.deposit,
            reserve: s.reserve,
            withdrawRound: rounds.withdrawRound,
            reserveClaimedInCurrentRound: claimedThisRound ? rounds.claimedInRound : 0
        });
    }

    /// @notice Reserve of `sender` paid to `recipient` in the current round.
    function claimedReserve(address sender, address recipient) external view returns (uint256) {
        return claimedReserveInRound(sender, recipient, _roundsManager.currentRound());
    }

    /// @notice Reserve of `sender` paid to `recipient` in `round`. Only the round of the
    /// recipient's latest claim is kept (allocations are per round): earlier rounds read zero.
    function claimedReserveInRound(address sender, address recipient, uint256 round) public view returns (uint256) {
        ReserveClaim memory claim = _reserveClaims[sender][recipient];
        return claim.round == round ? claim.claimed : 0;
    }

    /// @notice Whether `sender` has an unlock in progress.
    function isUnlockInProgress(address sender) external view returns (bool) {
        return _senderRounds[sender].withdrawRound != 0;
    }

    /// @notice Whether the ticket with EIP-712 digest `ticketHash` was redeemed.
    function isTicketUsed(bytes32 ticketHash) external view returns (bool) {
        return _usedTickets[ticketHash];
    }

    /// @notice The ticket's EIP-712 digest: what the sender signs, and the replay-protection key.
    function getTicketHash(Ticket calldata ticket) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(_TICKET_TYPEHASH, ticket)));
    }

    // ---------------------------------------------------------------- internals

    function _fund(uint256 depositAmount, uint256 reserveAmount) private {
        uint256 total = depositAmount + reserveAmount;
        if (total == 0) revert TicketBrokerZeroAmount();
        Sender storage s = _senders[msg.sender];
        SenderRounds storage rounds = _senderRounds[msg.sender];
        if (!rounds.seen) rounds.seen = true;
        if (depositAmount != 0) {
            uint256 deposit = s.deposit + depositAmount;
            s.deposit = deposit.toUint128();
            emit DepositFunded(msg.sender, depositAmount, deposit);
        }
        if (reserveAmount != 0) {
            uint256 reserve = s.reserve + reserveAmount;
            s.reserve = reserve.toUint128();
            emit ReserveFunded(msg.sender, reserveAmount, reserve);
        }
        _token.safeTransferFrom(msg.sender, address(this), total);
    }

    /// @dev Validates, then pays. A failure status means nothing changed.
    function _redeem(Ticket calldata ticket, bytes calldata sig, uint256 recipientRand)
        private
        returns (RedemptionStatus, bytes32 ticketHash)
    {
        ticketHash = getTicketHash(ticket);
        if (ticket.recipient == address(0)) return (RedemptionStatus.InvalidRecipient, ticketHash);
        if (keccak256(abi.encode(recipientRand)) != ticket.recipientRandHash) {
            return (RedemptionStatus.InvalidRecipientRand, ticketHash);
        }
        uint256 creationRound = ticket.creationRound;
        (uint256 round, bytes32 blockHash) = _roundsManager.currentRoundAndBlockHash(creationRound);
        bytes32 givenHash = ticket.creationRoundBlockHash;
        if (creationRound > round || (givenHash != bytes32(0) && givenHash != blockHash)) {
            return (RedemptionStatus.InvalidCreationRound, ticketHash);
        }
        // creationRound <= round (checked above), so the sum cannot overflow.
        if (round > creationRound + _ticketValidityRounds) return (RedemptionStatus.TicketExpired, ticketHash);
        if (_usedTickets[ticketHash]) return (RedemptionStatus.TicketUsed, ticketHash);
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(ticketHash, sig);
        if (err != ECDSA.RecoverError.NoError || signer != ticket.sender) {
            return (RedemptionStatus.InvalidSignature, ticketHash);
        }
        if (uint256(keccak256(abi.encodePacked(sig, recipientRand))) >= ticket.winProb) {
            return (RedemptionStatus.NotWinning, ticketHash);
        }
        return (_pay(ticket, ticketHash, round), ticketHash);
    }

    function _pay(Ticket calldata ticket, bytes32 ticketHash, uint256 round) private returns (RedemptionStatus) {
        address sender = ticket.sender;
        address recipient = ticket.recipient;
        // The BondingManager is a fixed, trusted contract (no proxies). A recipient without a
        // seat in the creation round is refused before anything changes, as a batch needs.
        if (!_bondingManager.isActiveInRound(recipient, ticket.creationRound)) return RedemptionStatus.RecipientNotActive;
        uint256 faceValue = ticket.faceValue;
        Sender memory s = _senders[sender];
        uint256 fromDeposit = faceValue < s.deposit ? faceValue : s.deposit;
        uint256 fromReserve;
        if (fromDeposit < faceValue && s.reserve != 0) {
            fromReserve = _claimReserve(sender, recipient, round, s.reserve, faceValue - fromDeposit);
        }
        uint256 paid = fromDeposit + fromReserve;
        _usedTickets[ticketHash] = true;
        if (paid != 0) {
            // fromDeposit <= deposit and fromReserve <= reserve, so neither underflows.
            _senders[sender] = Sender({deposit: uint128(s.deposit - fromDeposit), reserve: uint128(s.reserve - fromReserve)});
            // An active orchestrator is registered, so the credit always lands.
            _bondingManager.updateOrchestratorWithFees(recipient, paid);
        }
        emit WinningTicketRedeemed(ticketHash, sender, recipient, faceValue, fromDeposit, fromReserve);
        if (paid == faceValue) return RedemptionStatus.Paid;
        emit TicketPaidPartially(ticketHash, sender, recipient, faceValue - paid);
        return paid == 0 ? RedemptionStatus.Unpaid : RedemptionStatus.PaidPartially;
    }

    /// @dev Takes what `recipient` may still claim from `sender`'s reserve this round, capped at
    /// `needed`, and records the claim.
    function _claimReserve(address sender, address recipient, uint256 round, uint256 reserve, uint256 needed)
        private
        returns (uint256 claimable)
    {
        (bool active, uint256 activeCount) = _bondingManager.activeStatus(recipient);
        if (!active || activeCount == 0) return 0;
        SenderRounds memory rounds = _senderRounds[sender];
        uint256 claimedInRound = rounds.claimRound == round ? rounds.claimedInRound : 0;
        ReserveClaim memory claim = _reserveClaims[sender][recipient];
        uint256 claimed = claim.round == round ? claim.claimed : 0;
        // Each active orchestrator's allocation is its share of the reserve as it stood before
        // this round's claims, so early claimers cannot shrink later claimers' shares.
        uint256 allocation = (reserve + claimedInRound) / activeCount;
        if (claimed >= allocation) return 0;
        claimable = allocation - claimed;
        if (claimable > reserve) claimable = reserve;
        if (claimable > needed) claimable = needed;
        _senderRounds[sender] = SenderRounds({
            withdrawRound: rounds.withdrawRound,
            claimRound: round.toUint64(),
            claimedInRound: (claimedInRound + claimable).toUint120(),
            seen: true
        });
        _reserveClaims[sender][recipient] = ReserveClaim({round: uint64(round), claimed: uint128(claimed + claimable)});
    }

    function _revertFor(RedemptionStatus status, Ticket calldata ticket, bytes32 ticketHash, uint256 recipientRand)
        private
        view
    {
        if (status == RedemptionStatus.InvalidRecipient) revert TicketBrokerInvalidRecipient(ticket.recipient);
        if (status == RedemptionStatus.InvalidRecipientRand) {
            revert TicketBrokerInvalidRecipientRand(ticket.recipientRandHash, recipientRand);
        }
        (uint256 round, bytes32 blockHash) = _roundsManager.currentRoundAndBlockHash(ticket.creationRound);
        if (status == RedemptionStatus.InvalidCreationRound) {
            revert TicketBrokerInvalidCreationRound(ticket.creationRound, blockHash, ticket.creationRoundBlockHash);
        }
        if (status == RedemptionStatus.TicketExpired) revert TicketBrokerTicketExpired(ticket.creationRound, round);
        if (status == RedemptionStatus.TicketUsed) revert TicketBrokerTicketUsed(ticketHash);
        if (status == RedemptionStatus.InvalidSignature) revert TicketBrokerInvalidSignature(ticket.sender);
        if (status == RedemptionStatus.NotWinning) revert TicketBrokerTicketNotWinning(ticketHash);
        revert TicketBrokerRecipientNotActive(ticket.recipient, ticket.creationRound);
    }

    function _setUnlockPeriod(uint256 period) private {
        if (period == 0 || period > type(uint32).max) revert TicketBrokerInvalidUnlockPeriod(period);
        uint256 validity = _ticketValidityRounds;
        if (validity >= period) revert TicketBrokerValidityNotBelowUnlockPeriod(validity, period);
        _unlockPeriod = uint64(period);
        emit UnlockPeriodUpdated(period);
    }

    function _setTicketValidityRounds(uint256 rounds) private {
        if (rounds == 0 || rounds > type(uint32).max) revert TicketBrokerInvalidTicketValidity(rounds);
        uint256 period = _unlockPeriod;
        if (rounds >= period) revert TicketBrokerValidityNotBelowUnlockPeriod(rounds, period);
        _ticketValidityRounds = uint64(rounds);
        emit TicketValidityRoundsUpdated(rounds);
    }
}
