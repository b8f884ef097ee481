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
 * to one chain and one deployment. A winning ticket pays its face value from the deposit, then
 * from the reserve, where each orchestrator active in the current round may claim at most
 * `reserve / activeOrchestratorCount` per sender per round; any shortfall is emitted.
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
        RecipientNotOrchestrator
    }

    /// @dev Deposit and reserve share a slot: redemption reads both with one SLOAD.
    struct Sender {
        uint128 deposit;
        uint128 reserve;
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
    mapping(address sender => uint256) private _withdrawRounds;
    mapping(bytes32 ticketHash => bool) private _usedTickets;
    mapping(address sender => mapping(uint256 round => uint256)) private _reserveClaimedInRound;
    mapping(address sender => mapping(uint256 round => mapping(address recipient => uint256))) private
        _reserveClaimedBy;

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
    /// @notice The unlock period must be between 1 and 2^32 rounds.
    error TicketBrokerInvalidUnlockPeriod(uint256 unlockPeriod);
    /// @notice The ticket validity must be between 1 and 2^32 rounds.
    error TicketBrokerInvalidTicketValidity(uint256 ticketValidityRounds);
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
    /// @notice `creationRound` is not initialized or its block hash is not `given` (stored: `expected`).
    error TicketBrokerInvalidCreationRound(uint256 creationRound, bytes32 expected, bytes32 given);
    /// @notice A ticket created in `creationRound` is no longer valid in `currentRound`.
    error TicketBrokerTicketExpired(uint256 creationRound, uint256 currentRound);
    /// @notice Ticket `ticketHash` was already redeemed.
    error TicketBrokerTicketUsed(bytes32 ticketHash);
    /// @notice The signature is malformed or not by `sender`.
    error TicketBrokerInvalidSignature(address sender);
    /// @notice Ticket `ticketHash` does not win.
    error TicketBrokerTicketNotWinning(bytes32 ticketHash);
    /// @notice `recipient` is not a registered orchestrator, so it cannot be paid.
    error TicketBrokerRecipientNotOrchestrator(address recipient);
    /// @notice The batch arrays differ in length.
    error TicketBrokerBatchLengthMismatch(uint256 tickets, uint256 signatures, uint256 recipientRands);

    /**
     * @param unlockPeriod_ Rounds between unlock() and the earliest withdraw().
     * @param ticketValidityRounds_ Rounds after its creation round in which a ticket can be redeemed.
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
     * @notice Sets the unlock period in rounds; applies to unlocks started afterwards.
     * Requirements:
     * - the caller is the owner; `period` is between 1 and 2^32.
     */
    function setUnlockPeriod(uint256 period) external onlyOwner {
        _setUnlockPeriod(period);
    }

    /**
     * @notice Sets how many rounds after its creation round a ticket stays redeemable.
     * Requirements:
     * - the caller is the owner; `rounds` is between 1 and 2^32.
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
        uint256 current = _withdrawRounds[msg.sender];
        if (current != 0) revert TicketBrokerAlreadyUnlocking(msg.sender, current);
        uint256 withdrawRound = _roundsManager.currentRound() + _unlockPeriod;
        _withdrawRounds[msg.sender] = withdrawRound;
        emit UnlockStarted(msg.sender, withdrawRound);
    }

    /**
     * @notice Cancels the caller's unlock.
     * Requirements:
     * - an unlock is in progress.
     */
    function cancelUnlock() external {
        if (_withdrawRounds[msg.sender] == 0) revert TicketBrokerNotUnlocking(msg.sender);
        delete _withdrawRounds[msg.sender];
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
        uint256 withdrawRound = _withdrawRounds[msg.sender];
        if (withdrawRound == 0) revert TicketBrokerNotUnlocking(msg.sender);
        uint256 round = _roundsManager.currentRound();
        if (round < withdrawRound) revert TicketBrokerUnlockPeriodNotOver(msg.sender, withdrawRound, round);
        delete _senders[msg.sender];
        delete _withdrawRounds[msg.sender];
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
     * - the recipient is not zero and is a registered orchestrator (when anything is payable);
     * - `recipientRand` matches `recipientRandHash`;
     * - `creationRoundBlockHash` is the stored block hash of `creationRound`;
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

    /// @notice Rounds between unlock() and the earliest withdraw().
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
        info = SenderInfo({
            deposit: s.deposit,
            reserve: s.reserve,
            withdrawRound: _withdrawRounds[sender],
            reserveClaimedInCurrentRound: _reserveClaimedInRound[sender][_roundsManager.currentRound()]
        });
    }

    /// @notice Reserve of `sender` paid to `recipient` in the current round.
    function claimedReserve(address sender, address recipient) external view returns (uint256) {
        return _reserveClaimedBy[sender][_roundsManager.currentRound()][recipient];
    }

    /// @notice Reserve of `sender` paid to `recipient` in `round`.
    function claimedReserveInRound(address sender, address recipient, uint256 round) external view returns (uint256) {
        return _reserveClaimedBy[sender][round][recipient];
    }

    /// @notice Whether `sender` has an unlock in progress.
    function isUnlockInProgress(address sender) external view returns (bool) {
        return _withdrawRounds[sender] != 0;
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
        (uint256 round, bytes32 blockHash) = _roundsManager.currentRoundAndBlockHash(ticket.creationRound);
        if (blockHash == bytes32(0) || blockHash != ticket.creationRoundBlockHash) {
            return (RedemptionStatus.InvalidCreationRound, ticketHash);
        }
        // creationRound was initialized, so it is <= the current round: no overflow.
        if (round > ticket.creationRound + _ticketValidityRounds) return (RedemptionStatus.TicketExpired, ticketHash);
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
        uint256 faceValue = ticket.faceValue;
        Sender memory s = _senders[sender];
        uint256 fromDeposit = faceValue < s.deposit ? faceValue : s.deposit;
        uint256 fromReserve;
        if (fromDeposit < faceValue && s.reserve != 0) {
            fromReserve = _reserveClaimable(sender, recipient, round, s.reserve, faceValue - fromDeposit);
        }
        uint256 paid = fromDeposit + fromReserve;
        // The BondingManager is a fixed, trusted contract (no proxies); asking it first lets an
        // unregistered recipient leave every state untouched, as a batch needs.
        if (paid != 0 && !_bondingManager.updateOrchestratorWithFees(recipient, paid)) {
            return RedemptionStatus.RecipientNotOrchestrator;
        }
        _usedTickets[ticketHash] = true;
        if (paid != 0) {
            // fromDeposit <= deposit and fromReserve <= reserve, so neither underflows.
            _senders[sender] = Sender({deposit: uint128(s.deposit - fromDeposit), reserve: uint128(s.reserve - fromReserve)});
        }
        if (fromReserve != 0) {
            _reserveClaimedInRound[sender][round] += fromReserve;
            _reserveClaimedBy[sender][round][recipient] += fromReserve;
        }
        emit WinningTicketRedeemed(ticketHash, sender, recipient, faceValue, fromDeposit, fromReserve);
        if (paid == faceValue) return RedemptionStatus.Paid;
        emit TicketPaidPartially(ticketHash, sender, recipient, faceValue - paid);
        return paid == 0 ? RedemptionStatus.Unpaid : RedemptionStatus.PaidPartially;
    }

    /// @dev What `recipient` may still take from `sender`'s reserve this round, capped at `needed`.
    function _reserveClaimable(address sender, address recipient, uint256 round, uint256 reserve, uint256 needed)
        private
        view
        returns (uint256 claimable)
    {
        (bool active, uint256 activeCount) = _bondingManager.activeStatus(recipient);
        if (!active || activeCount == 0) return 0;
        // Each active orchestrator's allocation is its share of the reserve as it stood before
        // this round's claims, so early claimers cannot shrink later claimers' shares.
        uint256 allocation = (reserve + _reserveClaimedInRound[sender][round]) / activeCount;
        uint256 claimed = _reserveClaimedBy[sender][round][recipient];
        if (claimed >= allocation) return 0;
        claimable = allocation - claimed;
        if (claimable > reserve) claimable = reserve;
        if (claimable > needed) claimable = needed;
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
        revert TicketBrokerRecipientNotOrchestrator(ticket.recipient);
    }

    function _setUnlockPeriod(uint256 period) private {
        if (period == 0 || period > type(uint32).max) revert TicketBrokerInvalidUnlockPeriod(period);
        _unlockPeriod = uint64(period);
        emit UnlockPeriodUpdated(period);
    }

    function _setTicketValidityRounds(uint256 rounds) private {
        if (rounds == 0 || rounds > type(uint32).max) revert TicketBrokerInvalidTicketValidity(rounds);
        _ticketValidityRounds = uint64(rounds);
        emit TicketValidityRoundsUpdated(rounds);
    }
}
