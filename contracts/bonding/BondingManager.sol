// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IBondingManager} from "../interfaces/IBondingManager.sol";

import {IMinter} from "../interfaces/IMinter.sol";
import {IRoundsManager} from "../interfaces/IRoundsManager.sol";
import {ITicketBroker} from "../interfaces/ITicketBroker.sol";
import {ActiveSet} from "./ActiveSet.sol";

/**
 * @title BondingManager
 * @notice Orchestrator registration, bonding and delegation, unbonding locks, the active set,
 * and the sharing of rewards and fees between an orchestrator and its delegators.
 *
 * Earnings: each orchestrator's pool issues shares to its delegators (the orchestrator's own
 * self-bond included). Rewards for delegators raise the pool's stake without issuing shares,
 * so every share's stake compounds at once; fees for delegators raise a cumulative
 * fees-per-share factor. The orchestrator's own cut of rewards and fees is kept aside in its
 * pool and moved into its delegator record when that is next settled (bond, unbond, claim).
 * A delegator's stake is `shares * poolStake / totalShares` and its unclaimed fees
 * `shares * (feePerShare - checkpoint)`: claiming costs O(1) whatever the number of rounds,
 * and reward() and fee crediting cost O(1) whatever the number of delegators. Earnings are
 * shared by the stake present when they arrive.
 *
 * The orchestrator records and the active set (top stakes, changes effective next round)
 * live in {ActiveSet}.
 */
contract BondingManager is IBondingManager, ActiveSet, Ownable2Step, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    uint256 private constant _PPM = 1_000_000;
    uint256 private constant _FEE_PRECISION = 1e27;

    struct Delegator {
        // slot 0
        address delegate;
        uint96 shares;
        // slot 1
        uint128 fees;
        uint64 nextUnbondingLockId;
        // slot 2
        uint256 feeCheckpoint; // 0 reads as 1, the factor every pool starts at (saves a fresh-slot write)
    }

    struct UnbondingLock {
        uint128 amount;
        uint64 withdrawRound;
    }

    /// @notice An orchestrator's state as the views report it.
    struct OrchestratorInfo {
        bool registered;
        uint256 rewardCut;
        uint256 feeShare;
        uint256 totalStake;
        uint256 totalShares;
        /// Reward cut not yet turned into the orchestrator's shares.
        uint256 cutStake;
        uint256 activationRound;
        uint256 deactivationRound;
        /// type(uint256).max when reward() was never called.
        uint256 lastRewardRound;
        bool active;
        bool inNextActiveSet;
    }

    /// @notice A delegator's state with pending earnings included.
    struct DelegatorInfo {
        address delegate;
        uint256 shares;
        uint256 stake;
        uint256 fees;
        uint256 nextUnbondingLockId;
    }

    IERC20 private immutable _token;
    IRoundsManager private immutable _roundsManager;
    IMinter private _minter;
    ITicketBroker private _ticketBroker;
    uint64 private _unbondingPeriod;
    mapping(address => Delegator) private _delegators;
    mapping(address => mapping(uint256 => UnbondingLock)) private _unbondingLocks;

    /// @notice The Minter and TicketBroker were wired in.
    event Wired(address minter, address ticketBroker);
    /// @notice The unbonding period changed.
    event UnbondingPeriodUpdated(uint256 unbondingPeriod);
    /// @notice `orchestrator` registered or changed its reward cut and fee share (ppm).
    event OrchestratorUpdated(address indexed orchestrator, uint256 rewardCut, uint256 feeShare);
    /// @notice `delegator` bonded `amount` new tokens to `orchestrator` (moving its stake from
    /// `previousOrchestrator` when that differs); `stake` is its stake afterwards.
    event Bonded(
        address indexed delegator,
        address indexed orchestrator,
        address previousOrchestrator,
        uint256 amount,
        uint256 stake
    );
    /// @notice `delegator` unbonded `amount` into lock `lockId`, withdrawable from `withdrawRound`.
    event Unbonded(
        address indexed delegator,
        address indexed orchestrator,
        uint256 indexed lockId,
        uint256 amount,
        uint256 withdrawRound
    );
    /// @notice `delegator` bonded lock `lockId`'s `amount` back to `orchestrator`.
    event Rebonded(address indexed delegator, address indexed orchestrator, uint256 indexed lockId, uint256 amount);
    /// @notice `delegator` withdrew lock `lockId`'s `amount`.
    event StakeWithdrawn(address indexed delegator, uint256 indexed lockId, uint256 amount);
    /// @notice `delegator` withdrew `amount` of its fees to `recipient`.
    event FeesWithdrawn(address indexed delegator, address indexed recipient, uint256 amount);
    /// @notice `delegator`'s pending fees were settled; `fees` is its withdrawable total.
    event EarningsClaimed(address indexed delegator, uint256 fees);
    /// @notice `orchestrator` called reward() in `round`: `amount` minted, `orchestratorCut` of it its own.
    event Rewarded(address indexed orchestrator, uint256 indexed round, uint256 amount, uint256 orchestratorCut);

    /// @notice A zero address was given where a contract or recipient is needed.
    error BondingManagerInvalidAddress();
    /// @notice Minter and TicketBroker were already wired.
    error BondingManagerAlreadyWired();
    /// @notice Minter and TicketBroker are not wired yet.
    error BondingManagerNotWired();
    /// @notice `caller` is not the TicketBroker.
    error BondingManagerUnauthorizedCaller(address caller);
    /// @notice A parts-per-million value above 1,000,000.
    error BondingManagerInvalidFraction(uint256 value);
    /// @notice The unbonding period must be between 1 and 2^32 rounds.
    error BondingManagerInvalidUnbondingPeriod(uint256 unbondingPeriod);
    /// @notice `account` is not a registered orchestrator.
    error BondingManagerNotOrchestrator(address account);
    /// @notice A registered orchestrator must stay bonded to itself.
    error BondingManagerOrchestratorCannotDelegate(address orchestrator, address to);
    /// @notice `account` has stake delegated to `delegate` and cannot register until it moves or unbonds it.
    error BondingManagerDelegatedElsewhere(address account, address delegate);
    /// @notice An amount of zero was given where a positive amount is required.
    error BondingManagerZeroAmount();
    /// @notice `amount` is too small to buy a single share of the pool.
    error BondingManagerAmountTooSmall(uint256 amount);
    /// @notice `delegator` has no bonded stake.
    error BondingManagerNotBonded(address delegator);
    /// @notice Unbonding `requested` exceeds the bonded stake `available`.
    error BondingManagerInsufficientStake(uint256 requested, uint256 available);
    /// @notice `delegator` has no unbonding lock `lockId`.
    error BondingManagerUnknownUnbondingLock(address delegator, uint256 lockId);
    /// @notice Lock `lockId` is withdrawable from `withdrawRound`; it is `currentRound`.
    error BondingManagerUnbondingLockNotWithdrawable(uint256 lockId, uint256 withdrawRound, uint256 currentRound);
    /// @notice Withdrawing `requested` fees exceeds the `available` fees.
    error BondingManagerInsufficientFees(uint256 requested, uint256 available);
    /// @notice `orchestrator` is not in `round`'s active set.
    error BondingManagerOrchestratorNotActive(address orchestrator, uint256 round);
    /// @notice `orchestrator` already called reward() in `round`.
    error BondingManagerRewardAlreadyCalled(address orchestrator, uint256 round);

    /**
     * @param unbondingPeriod_ Rounds between unbond() and the earliest withdrawStake().
     * @param maxActiveSetSize_ Orchestrators in the active set, 1..MAX_ACTIVE_SET_SIZE.
     */
    constructor(
        address initialOwner,
        IERC20 token_,
        IRoundsManager roundsManager_,
        uint256 unbondingPeriod_,
        uint256 maxActiveSetSize_
    ) ActiveSet(maxActiveSetSize_) Ownable(initialOwner) {
        if (address(token_) == address(0) || address(roundsManager_) == address(0)) {
            revert BondingManagerInvalidAddress();
        }
        _token = token_;
        _roundsManager = roundsManager_;
        _setUnbondingPeriod(unbondingPeriod_);
    }

    // ---------------------------------------------------------------- owner

    /**
     * @notice Wires in the Minter and the TicketBroker, once (they are deployed after this contract).
     * Requirements:
     * - the caller is the owner;
     * - not wired before; neither address is zero.
     */
    function setWiring(IMinter minter_, ITicketBroker ticketBroker_) external onlyOwner {
        if (address(_minter) != address(0)) revert BondingManagerAlreadyWired();
        if (address(minter_) == address(0) || address(ticketBroker_) == address(0)) {
            revert BondingManagerInvalidAddress();
        }
        _minter = minter_;
        _ticketBroker = ticketBroker_;
        emit Wired(address(minter_), address(ticketBroker_));
    }

    /**
     * @notice Sets the unbonding period in rounds; applies to locks created afterwards.
     * Requirements:
     * - the caller is the owner; `period` is between 1 and 2^32.
     */
    function setUnbondingPeriod(uint256 period) external onlyOwner {
        _setUnbondingPeriod(period);
    }

    /**
     * @notice Sets the maximum active set size.
     * Requirements:
     * - the caller is the owner;
     * - `size` is at least 1 and the current number of members, at most MAX_ACTIVE_SET_SIZE.
     */
    function setMaxActiveSetSize(uint256 size) external onlyOwner {
        _setMaxActiveSetSize(size);
    }

    // ---------------------------------------------------------------- orchestrators

    /**
     * @notice Registers the caller as an orchestrator, or updates its parameters.
     * @param rewardCut Share of each reward the orchestrator keeps, in ppm.
     * @param feeShare Share of each fee that goes to the delegators (itself included), in ppm.
     * Requirements:
     * - both values are at most 1,000,000;
     * - the caller has no stake delegated to another orchestrator.
     */
    function setOrchestratorParams(uint256 rewardCut, uint256 feeShare) external {
        if (rewardCut > _PPM) revert BondingManagerInvalidFraction(rewardCut);
        if (feeShare > _PPM) revert BondingManagerInvalidFraction(feeShare);
        Delegator storage d = _delegators[msg.sender];
        address delegate = d.delegate;
        if (delegate != msg.sender) {
            if (delegate != address(0) && d.shares != 0) revert BondingManagerDelegatedElsewhere(msg.sender, delegate);
            d.delegate = msg.sender;
        }
        Orchestrator storage o = _orchestrators[msg.sender];
        o.registered = true;
        // Nonzero from registration on: the first fee credit then costs a warm rewrite, not a
        // fresh-slot write. Only differences of this factor are ever used.
        if (o.feePerShare == 0) o.feePerShare = 1;
        // Both values are <= _PPM < 2^24, checked above.
        o.rewardCut = uint24(rewardCut);
        o.feeShare = uint24(feeShare);
        emit OrchestratorUpdated(msg.sender, rewardCut, feeShare);
        uint256 stake = o.totalStake;
        if (o.poolIndex == 0 && stake != 0) _tryJoinPool(msg.sender, o, stake, _currentRound());
    }

    /**
     * @notice Mints the caller's share of the current round's inflation (its stake at the
     * round's start over the total active stake) and shares it with its delegators. Initializes
     * the round when needed. (No reentrancy guard: it only calls the fixed Minter and Token.)
     * Requirements:
     * - the contract is wired;
     * - the caller is in the current round's active set;
     * - the caller has not called reward() in this round.
     */
    function reward() external {
        IMinter minter_ = _minter;
        if (address(minter_) == address(0)) revert BondingManagerNotWired();
        uint256 round = _roundsManager.initializeRound();
        Orchestrator storage o = _orchestrators[msg.sender];
        if (!_isActive(o, round)) revert BondingManagerOrchestratorNotActive(msg.sender, round);
        if (o.lastRewardRoundPlusOne == round + 1) revert BondingManagerRewardAlreadyCalled(msg.sender, round);
        o.lastRewardRoundPlusOne = (round + 1).toUint32();
        (uint256 activeStake,) = _totalsAt(round);
        uint256 minted = minter_.mintReward(round, _stakeAtRoundStart(o, round), activeStake);
        uint256 cut;
        if (minted != 0) cut = _distributeReward(msg.sender, o, minted, round);
        emit Rewarded(msg.sender, round, minted, cut);
    }

    /**
     * @inheritdoc IBondingManager
     * @dev `feeShare` of the fees goes to the pool's shares through the fees-per-share factor,
     * the rest (all of it when the pool has no shares) to the orchestrator's cut. Requirements:
     * - the caller is the TicketBroker.
     */
    function updateOrchestratorWithFees(address orchestrator, uint256 fees) external returns (bool credited) {
        if (msg.sender != address(_ticketBroker)) revert BondingManagerUnauthorizedCaller(msg.sender);
        Orchestrator storage o = _orchestrators[orchestrator];
        if (!o.registered) return false;
        uint256 shares = o.totalShares;
        uint256 toDelegators = shares == 0 ? 0 : (fees * o.feeShare) / _PPM;
        if (toDelegators != 0) o.feePerShare += (toDelegators * _FEE_PRECISION) / shares;
        // toDelegators <= fees because feeShare <= _PPM.
        o.cutFees = (o.cutFees + fees - toDelegators).toUint112();
        // No event here: the TicketBroker's WinningTicketRedeemed names the recipient and amount.
        return true;
    }

    // ---------------------------------------------------------------- delegators

    /**
     * @notice Bonds `amount` tokens (transferred from the caller) to orchestrator `to`. When the
     * caller is bonded to another orchestrator, its whole stake moves to `to` as well.
     * Requirements:
     * - `to` is a registered orchestrator;
     * - a registered orchestrator can only bond to itself;
     * - `amount` is positive unless the call moves existing stake;
     * - the caller approved `amount` to this contract.
     */
    function bond(uint256 amount, address to) external nonReentrant {
        Orchestrator storage target = _orchestrators[to];
        if (!target.registered) revert BondingManagerNotOrchestrator(to);
        if (to != msg.sender && _orchestrators[msg.sender].registered) {
            revert BondingManagerOrchestratorCannotDelegate(msg.sender, to);
        }
        Delegator storage d = _delegators[msg.sender];
        address previous = d.delegate;
        uint256 round = _currentRound();
        uint256 moved;
        if (previous != to && d.shares != 0) {
            moved = _removeAllStake(msg.sender, d, previous, round);
        } else if (amount == 0) {
            revert BondingManagerZeroAmount();
        }
        d.delegate = to;
        uint256 stake = _addStake(msg.sender, d, to, target, amount + moved, round);
        emit Bonded(msg.sender, to, previous, amount, stake);
        if (amount != 0) _token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /**
     * @notice Unbonds `amount` of the caller's stake into a new unbonding lock, withdrawable
     * after the unbonding period.
     * Requirements:
     * - the caller has stake (an orchestrator's waiting reward cut counts);
     * - `amount` is positive and at most its stake.
     */
    function unbond(uint256 amount) external {
        Delegator storage d = _delegators[msg.sender];
        address orchestrator = d.delegate;
        if (orchestrator == address(0)) revert BondingManagerNotBonded(msg.sender);
        if (amount == 0) revert BondingManagerZeroAmount();
        uint256 round = _currentRound();
        _removeStake(msg.sender, d, orchestrator, amount, round);
        uint256 lockId = d.nextUnbondingLockId;
        d.nextUnbondingLockId = uint64(lockId + 1);
        uint256 withdrawRound = round + _unbondingPeriod;
        _unbondingLocks[msg.sender][lockId] =
            UnbondingLock({amount: uint128(amount), withdrawRound: withdrawRound.toUint64()});
        emit Unbonded(msg.sender, orchestrator, lockId, amount, withdrawRound);
    }

    /**
     * @notice Bonds an unbonding lock's tokens back to the caller's current orchestrator.
     * Requirements:
     * - the caller has unbonding lock `lockId`.
     */
    function rebond(uint256 lockId) external {
        UnbondingLock memory lock = _unbondingLocks[msg.sender][lockId];
        if (lock.amount == 0) revert BondingManagerUnknownUnbondingLock(msg.sender, lockId);
        Delegator storage d = _delegators[msg.sender];
        address orchestrator = d.delegate;
        delete _unbondingLocks[msg.sender][lockId];
        _addStake(msg.sender, d, orchestrator, _orchestrators[orchestrator], lock.amount, _currentRound());
        emit Rebonded(msg.sender, orchestrator, lockId, lock.amount);
    }

    /**
     * @notice Withdraws an unbonding lock's tokens to the caller.
     * Requirements:
     * - the caller has unbonding lock `lockId`, and its withdraw round has come.
     */
    function withdrawStake(uint256 lockId) external nonReentrant {
        UnbondingLock memory lock = _unbondingLocks[msg.sender][lockId];
        if (lock.amount == 0) revert BondingManagerUnknownUnbondingLock(msg.sender, lockId);
        uint256 round = _currentRound();
        if (round < lock.withdrawRound) {
            revert BondingManagerUnbondingLockNotWithdrawable(lockId, lock.withdrawRound, round);
        }
        delete _unbondingLocks[msg.sender][lockId];
        emit StakeWithdrawn(msg.sender, lockId, lock.amount);
        _token.safeTransfer(msg.sender, lock.amount);
    }

    /**
     * @notice Settles the caller's pending fees into its withdrawable fee balance. (Reward
     * stake needs no claim: it compounds into the caller's shares as it is minted.)
     * Requirements:
     * - the caller has a delegate (is or was bonded, or is an orchestrator).
     */
    function claimEarnings() external {
        Delegator storage d = _delegators[msg.sender];
        address orchestrator = d.delegate;
        if (orchestrator == address(0)) revert BondingManagerNotBonded(msg.sender);
        _settleFees(msg.sender, d, orchestrator, _orchestrators[orchestrator]);
        emit EarningsClaimed(msg.sender, d.fees);
    }

    /**
     * @notice Withdraws `amount` of the caller's fees (pending ones included) to `recipient`.
     * Requirements:
     * - `recipient` is not the zero address; `amount` is positive and at most the caller's fees.
     */
    function withdrawFees(address recipient, uint256 amount) external nonReentrant {
        if (recipient == address(0)) revert BondingManagerInvalidAddress();
        if (amount == 0) revert BondingManagerZeroAmount();
        Delegator storage d = _delegators[msg.sender];
        address orchestrator = d.delegate;
        if (orchestrator != address(0)) _settleFees(msg.sender, d, orchestrator, _orchestrators[orchestrator]);
        uint256 fees = d.fees;
        if (amount > fees) revert BondingManagerInsufficientFees(amount, fees);
        d.fees = uint128(fees - amount);
        emit FeesWithdrawn(msg.sender, recipient, amount);
        _ticketBroker.transferFees(recipient, amount);
    }

    // ---------------------------------------------------------------- views

    /// @notice The staking token.
    function token() external view returns (address) {
        return address(_token);
    }

    /// @notice The round clock.
    function roundsManager() external view returns (address) {
        return address(_roundsManager);
    }

    /// @notice The Minter (zero before wiring).
    function minter() external view returns (address) {
        return address(_minter);
    }

    /// @notice The TicketBroker (zero before wiring).
    function ticketBroker() external view returns (address) {
        return address(_ticketBroker);
    }

    /// @notice Rounds between unbond() and the earliest withdrawStake().
    function unbondingPeriod() external view returns (uint256) {
        return _unbondingPeriod;
    }

    /// @inheritdoc IBondingManager
    function isRegisteredOrchestrator(address account) external view returns (bool) {
        return _orchestrators[account].registered;
    }

    /// @notice Whether `orchestrator` is in the current round's active set.
    function isActiveOrchestrator(address orchestrator) external view returns (bool) {
        return _isActive(_orchestrators[orchestrator], _currentRound());
    }

    /// @inheritdoc IBondingManager
    function activeStatus(address orchestrator) external view returns (bool active, uint256 activeCount) {
        uint256 round = _currentRound();
        (, activeCount) = _totalsAt(round);
        active = _isActive(_orchestrators[orchestrator], round);
    }

    // ---- For the TicketBroker: a ticket pays only a recipient active in its creation round.

    /// @inheritdoc IBondingManager
    function isActiveInRound(address orchestrator, uint256 round) external view returns (bool) {
        return _isActive(_orchestrators[orchestrator], round);
    }

    /// @notice All stake bonded to `orchestrator` now (its own and its delegators').
    function orchestratorTotalStake(address orchestrator) external view returns (uint256) {
        return _orchestrators[orchestrator].totalStake;
    }

    /// @notice `orchestrator`'s registration, parameters, stake and activity.
    function getOrchestrator(address orchestrator) external view returns (OrchestratorInfo memory info) {
        Orchestrator storage o = _orchestrators[orchestrator];
        uint256 rewarded = o.lastRewardRoundPlusOne;
        info = OrchestratorInfo({
            registered: o.registered,
            rewardCut: o.rewardCut,
            feeShare: o.feeShare,
            totalStake: o.totalStake,
            totalShares: o.totalShares,
            cutStake: o.cutStake,
            activationRound: o.activationRound,
            deactivationRound: o.deactivationRound,
            lastRewardRound: rewarded == 0 ? type(uint256).max : rewarded - 1,
            active: _isActive(o, _currentRound()),
            inNextActiveSet: o.poolIndex != 0
        });
    }

    /// @notice Total stake of the current round's active set, as it was at the round's start.
    function totalActiveStake() external view returns (uint256 stake) {
        (stake,) = _totalsAt(_currentRound());
    }

    /// @notice Number of orchestrators in the current round's active set.
    function activeOrchestratorCount() external view returns (uint256 count) {
        (, count) = _totalsAt(_currentRound());
    }

    /// @notice `delegator`'s stake, pending reward compounding included.
    /// For an orchestrator it includes its waiting reward cut, converted exactly as the next
    /// settle will, so `unbond(pendingStake(x))` always succeeds.
    function pendingStake(address delegator) public view returns (uint256) {
        Delegator storage d = _delegators[delegator];
        address orchestrator = d.delegate;
        Orchestrator storage o = _orchestrators[orchestrator];
        uint256 shares = d.shares;
        uint256 totalShares = o.totalShares;
        uint256 cutStake = o.cutStake;
        uint256 poolStake = o.totalStake - cutStake;
        if (orchestrator == delegator && cutStake != 0) {
            uint256 newShares = totalShares == 0 ? cutStake : (cutStake * totalShares) / poolStake;
            shares += newShares;
            totalShares += newShares;
            poolStake += cutStake;
        }
        return _stakeOf(shares, poolStake, totalShares);
    }

    /// @notice `delegator`'s withdrawable fees, pending ones included.
    function pendingFees(address delegator) public view returns (uint256 fees) {
        Delegator storage d = _delegators[delegator];
        fees = d.fees;
        address orchestrator = d.delegate;
        if (orchestrator == address(0)) return fees;
        Orchestrator storage o = _orchestrators[orchestrator];
        uint256 shares = d.shares;
        if (shares != 0) fees += (shares * (o.feePerShare - _checkpointOf(d))) / _FEE_PRECISION;
        if (orchestrator == delegator) fees += o.cutFees;
    }

    /// @notice `delegator`'s delegate, shares, stake, fees (pending included) and next lock id.
    function delegatorInfo(address delegator) external view returns (DelegatorInfo memory info) {
        Delegator storage d = _delegators[delegator];
        info = DelegatorInfo({
            delegate: d.delegate,
            shares: d.shares,
            stake: pendingStake(delegator),
            fees: pendingFees(delegator),
            nextUnbondingLockId: d.nextUnbondingLockId
        });
    }

    /// @notice Unbonding lock `lockId` of `delegator` (zero amount when absent).
    function unbondingLock(address delegator, uint256 lockId)
        external
        view
        returns (uint256 amount, uint256 withdrawRound)
    {
        UnbondingLock memory lock = _unbondingLocks[delegator][lockId];
        return (lock.amount, lock.withdrawRound);
    }

    // ---------------------------------------------------------------- internals

    function _currentRound() private view returns (uint256) {
        return _roundsManager.currentRound();
    }

    /// @dev The last shareholder gets the pool's rounding dust, so an empty pool holds no stake.
    function _stakeOf(uint256 shares, uint256 totalStake, uint256 totalShares) private pure returns (uint256) {
        if (shares == 0) return 0;
        if (shares == totalShares) return totalStake;
        return (shares * totalStake) / totalShares;
    }

    /// @dev Moves `delegator`'s pending fees into its balance. Must run before its shares change.
    function _settleFees(address delegator, Delegator storage d, address orchestrator, Orchestrator storage o)
        private
    {
        uint256 acc = o.feePerShare;
        uint256 checkpoint = _checkpointOf(d);
        uint256 add;
        if (acc != checkpoint) {
            // With shares, the checkpoint comes from this same pool, whose factor only grows.
            uint256 shares = d.shares;
            if (shares != 0) add = (shares * (acc - checkpoint)) / _FEE_PRECISION;
            d.feeCheckpoint = acc;
        }
        if (delegator == orchestrator) {
            uint256 cut = o.cutFees;
            if (cut != 0) {
                add += cut;
                o.cutFees = 0;
            }
            uint256 cutStake = o.cutStake;
            if (cutStake != 0) _convertCutStake(d, o, cutStake);
        }
        if (add != 0) d.fees = (d.fees + add).toUint128();
    }

    /// @dev Turns the orchestrator's waiting reward cut into shares at the current share price.
    function _convertCutStake(Delegator storage d, Orchestrator storage o, uint256 cutStake) private {
        uint256 totalShares = o.totalShares;
        // cutStake <= totalStake by construction (it is added to both at once).
        uint256 poolStake = o.totalStake - cutStake;
        uint256 newShares = totalShares == 0 ? cutStake : (cutStake * totalShares) / poolStake;
        d.shares = (d.shares + newShares).toUint96();
        o.totalShares = (totalShares + newShares).toUint112();
        o.cutStake = 0;
    }

    /// @dev A never-written checkpoint stands for 1, the factor every pool starts at: a first
    /// bond then needs no checkpoint write while the pool has earned no fees.
    function _checkpointOf(Delegator storage d) private view returns (uint256 checkpoint) {
        checkpoint = d.feeCheckpoint;
        if (checkpoint == 0) checkpoint = 1;
    }

    function _addStake(
        address delegator,
        Delegator storage d,
        address orchestrator,
        Orchestrator storage o,
        uint256 amount,
        uint256 round
    ) private returns (uint256 delegatorStake) {
        _settleFees(delegator, d, orchestrator, o);
        uint256 totalStake = o.totalStake;
        uint256 totalShares = o.totalShares;
        uint256 poolStake = totalStake - o.cutStake;
        uint256 newShares = totalShares == 0 ? amount : (amount * totalShares) / poolStake;
        if (newShares == 0) revert BondingManagerAmountTooSmall(amount);
        uint256 shares = d.shares + newShares;
        d.shares = shares.toUint96();
        uint256 newTotalStake = totalStake + amount;
        totalShares += newShares;
        o.totalStake = newTotalStake.toUint112();
        o.totalShares = totalShares.toUint112();
        _onStakeChanged(orchestrator, o, totalStake, newTotalStake, round);
        return _stakeOf(shares, poolStake + amount, totalShares);
    }

    function _removeStake(address delegator, Delegator storage d, address orchestrator, uint256 amount, uint256 round)
        private
    {
        Orchestrator storage o = _orchestrators[orchestrator];
        // Settling first turns an orchestrator's waiting reward cut into shares it can unbond.
        _settleFees(delegator, d, orchestrator, o);
        uint256 shares = d.shares;
        if (shares == 0) revert BondingManagerNotBonded(delegator);
        uint256 totalStake = o.totalStake;
        uint256 totalShares = o.totalShares;
        uint256 poolStake = totalStake - o.cutStake;
        uint256 stake = _stakeOf(shares, poolStake, totalShares);
        if (amount > stake) revert BondingManagerInsufficientStake(amount, stake);
        // Rounding the burn up keeps the remaining shares' value; the burn never exceeds
        // `shares` because `stake <= shares * poolStake / totalShares`.
        uint256 burn = amount == stake ? shares : Math.mulDiv(amount, totalShares, poolStake, Math.Rounding.Ceil);
        d.shares = uint96(shares - burn);
        o.totalShares = uint112(totalShares - burn);
        o.totalStake = uint112(totalStake - amount);
        _onStakeChanged(orchestrator, o, totalStake, totalStake - amount, round);
    }

    function _removeAllStake(address delegator, Delegator storage d, address orchestrator, uint256 round)
        private
        returns (uint256 stake)
    {
        Orchestrator storage o = _orchestrators[orchestrator];
        _settleFees(delegator, d, orchestrator, o);
        uint256 shares = d.shares;
        uint256 totalStake = o.totalStake;
        uint256 totalShares = o.totalShares;
        stake = _stakeOf(shares, totalStake - o.cutStake, totalShares);
        d.shares = 0;
        // shares <= totalShares and stake <= the shares' stake <= totalStake (see _stakeOf).
        o.totalShares = uint112(totalShares - shares);
        o.totalStake = uint112(totalStake - stake);
        _onStakeChanged(orchestrator, o, totalStake, totalStake - stake, round);
    }

    /// @return cut The orchestrator's cut (all of `minted` when its pool has no shares).
    function _distributeReward(address orchestrator, Orchestrator storage o, uint256 minted, uint256 round)
        private
        returns (uint256 cut)
    {
        uint256 totalStake = o.totalStake;
        cut = o.totalShares == 0 ? minted : (minted * o.rewardCut) / _PPM;
        // The delegators' part raises the stake of every existing share alike; the cut waits in
        // cutStake until the orchestrator's own record is settled.
        o.cutStake = (o.cutStake + cut).toUint112();
        uint256 newTotalStake = totalStake + minted;
        o.totalStake = newTotalStake.toUint112();
        _onStakeChanged(orchestrator, o, totalStake, newTotalStake, round);
    }

    function _setUnbondingPeriod(uint256 period) private {
        if (period == 0 || period > type(uint32).max) revert BondingManagerInvalidUnbondingPeriod(period);
        _unbondingPeriod = uint64(period);
        emit UnbondingPeriodUpdated(period);
    }

}
