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
 * Earnings follow one rule: what a pool earns in a round (its reward() mint and the fees
 * credited to it) goes to the stake that has been in the pool since that round began and is
 * still there when the earnings arrive. Stake bonded, moved in or rebonded during a round is
 * *pending*: it counts in the pool's total stake at once, but earns from the next round on.
 * Stake that leaves (unbond, or a move to another orchestrator) stops earning at once. So a
 * stake can earn a given round in one pool only, and joining a pool just before its earnings
 * arrive gains nothing.
 *
 * Mechanics: each pool issues shares for its earning stake. Rewards for delegators raise the
 * pool's stake without issuing shares; fees for delegators raise a cumulative fees-per-share
 * factor. A round's pending stake is turned into shares at the pool's first touch in a later
 * round (the "roll"), at the share price and fee factor of that moment, which are recorded once
 * per pool and round so each delegator's pending stake converts on its own next touch. A
 * delegator's stake is its pending stake plus `shares * poolStake / totalShares`, its unclaimed
 * fees `shares * (feePerShare - checkpoint)`: claiming costs O(1) whatever the number of rounds,
 * and reward() and fee crediting cost O(1) whatever the number of delegators. The
 * orchestrator's own cut of rewards and fees is kept aside in its pool and moved into its own
 * record when that is next settled.
 *
 * Reward cut and fee share changes take effect from the round after the change. The active
 * set lives in {ActiveSet}.
 */
contract BondingManager is IBondingManager, ActiveSet, Ownable2Step, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    uint256 private constant _PPM = 1_000_000;
    uint256 private constant _FEE_PRECISION = 1e27;
    /// @dev Shares per stake wei, fixed point; a pool's first shares are issued 1:1.
    uint256 private constant _RATIO_ONE = 1e27;
    /// @dev A pool with fewer earning shares gives all fees to the orchestrator's cut: it
    /// bounds the fees-per-share factor so it fits its 160 bits (only dust pools are affected).
    uint256 private constant _MIN_FEE_SHARES = 1e12;

    struct Delegator {
        // slot 0
        uint32 orchestratorId; // 0 = never bonded
        uint32 pendingRound;
        uint96 pendingAmount; // bonded in pendingRound, not yet shares
        uint96 shares;
        // slot 1
        uint160 feeCheckpoint; // 0 reads as 1, the factor every pool starts at
        uint96 fees; // withdrawable now
        // slot 2
        FeeLock feeLock;
        // slot 3
        uint64 nextUnbondingLockId;
    }

    /// @dev Fees settled into a record wait `_feeLockRounds` rounds before they can be withdrawn,
    /// in at most two buckets: `amount` until `unlockRound`, then `laterAmount` until
    /// `laterUnlockRound` (later). Fees settled in round r go to the first bucket when it is empty
    /// or unlocks at r + lock, else to the second, whose unlock round moves to r + lock. The
    /// second bucket only takes fees while the first is still locked, and the first was filled
    /// in an earlier round, so fees settled in round r unlock between r + lock and
    /// r + 2 * lock - 2 (lock >= 2). Rounds are kept when a bucket empties, so the slot stays
    /// non-zero and later writes rewrite it (about 17k gas less than filling a fresh slot).
    struct FeeLock {
        uint96 amount;
        uint32 unlockRound;
        uint96 laterAmount;
        uint32 laterUnlockRound;
    }

    /// @dev A pool's share price and fee factor when a round's pending stake was turned into shares.
    struct Cohort {
        uint96 sharesPerStake; // scaled by _RATIO_ONE; at most _RATIO_ONE (a share never costs less than 1 wei)
        uint160 feePerShare;
    }

    struct UnbondingLock {
        uint128 amount;
        uint64 withdrawRound;
    }

    /// @notice An orchestrator's state as the views report it.
    struct OrchestratorInfo {
        bool registered;
        /// Reward cut and fee share in force in the current round (ppm).
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
        /// Stake bonded this round: it earns from the next round.
        uint256 pendingStake;
        /// Self-stake at least minSelfStake: may hold a seat.
        bool eligible;
        /// Reward cut and fee share in force from the next round.
        uint256 nextRewardCut;
        uint256 nextFeeShare;
    }

    /// @notice A delegator's fees: `withdrawable` now, `locked` until `unlockRound`, then
    /// `laterLocked` until `laterUnlockRound` (a zero amount's round means nothing), and
    /// `unsettled` fees, locked for feeLockRounds() from the round they are settled in.
    struct FeeBalance {
        uint256 withdrawable;
        uint256 locked;
        uint256 unlockRound;
        uint256 laterLocked;
        uint256 laterUnlockRound;
        uint256 unsettled;
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
    uint256 private immutable _minSelfStake;
    IMinter private _minter;
    ITicketBroker private _ticketBroker;
    uint32 private _unbondingPeriod;
    /// @dev The TicketBroker's unlock period, pushed by it on every change: fees wait this many
    /// rounds, so a sender cannot get its funds back through its own orchestrator faster than
    /// through unlock() and withdraw(). Packed with the TicketBroker address, which every fee
    /// withdrawal reads anyway.
    uint32 private _feeLockRounds;
    uint32 private _orchestratorCount;
    mapping(uint256 id => address) private _orchestratorById;
    mapping(address => Delegator) private _delegators;
    mapping(address => mapping(uint256 => UnbondingLock)) private _unbondingLocks;
    mapping(address orchestrator => mapping(uint256 round => Cohort)) private _cohorts;

    /// @notice The Minter and TicketBroker were wired in.
    event Wired(address minter, address ticketBroker);
    /// @notice The unbonding period changed.
    event UnbondingPeriodUpdated(uint256 unbondingPeriod);
    /// @notice Fees settled from now on wait `feeLockRounds` rounds before they can be withdrawn.
    event FeeLockRoundsUpdated(uint256 feeLockRounds);
    /// @notice `orchestrator` registered or changed its reward cut and fee share (ppm), in force
    /// from `effectiveRound` (at once on registration, else the next round).
    event OrchestratorUpdated(address indexed orchestrator, uint256 rewardCut, uint256 feeShare, uint256 effectiveRound);
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
    /// @notice `delegator`'s pending fees were settled; `fees` is all its settled fees, the
    /// locked ones included (see feeBalance).
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
    /// @notice The minimum self-stake must be between 1 wei and 2^96 - 1 wei.
    error BondingManagerInvalidMinSelfStake(uint256 minSelfStake);
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
    /// @notice Withdrawing `requested` fees exceeds all of the caller's fees, `available`, locked included.
    error BondingManagerInsufficientFees(uint256 requested, uint256 available);
    /// @notice Only `withdrawable` of the `requested` fees can be withdrawn now; enough are
    /// unlocked from `unlockRound`.
    error BondingManagerFeesLocked(uint256 requested, uint256 withdrawable, uint256 unlockRound);
    /// @notice `orchestrator` is not in `round`'s active set.
    error BondingManagerOrchestratorNotActive(address orchestrator, uint256 round);
    /// @notice `orchestrator` already called reward() in `round`.
    error BondingManagerRewardAlreadyCalled(address orchestrator, uint256 round);

    /**
     * @param unbondingPeriod_ Rounds between unbond() and the earliest withdrawStake().
     * @param maxActiveSetSize_ Orchestrators in the active set, 1..MAX_ACTIVE_SET_SIZE.
     * @param minSelfStake_ Token wei an orchestrator must have bonded to itself to hold a seat.
     */
    constructor(
        address initialOwner,
        IERC20 token_,
        IRoundsManager roundsManager_,
        uint256 unbondingPeriod_,
        uint256 maxActiveSetSize_,
        uint256 minSelfStake_
    ) ActiveSet(maxActiveSetSize_) Ownable(initialOwner) {
        if (address(token_) == address(0) || address(roundsManager_) == address(0)) {
            revert BondingManagerInvalidAddress();
        }
        if (minSelfStake_ == 0 || minSelfStake_ > type(uint96).max) {
            revert BondingManagerInvalidMinSelfStake(minSelfStake_);
        }
        _token = token_;
        _roundsManager = roundsManager_;
        _minSelfStake = minSelfStake_;
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
        _setFeeLockRounds(ticketBroker_.unlockPeriod());
    }

    /// @inheritdoc IBondingManager
    function setFeeLockRounds(uint256 rounds) external {
        if (msg.sender != address(_ticketBroker)) revert BondingManagerUnauthorizedCaller(msg.sender);
        _setFeeLockRounds(rounds);
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
     * @notice Registers the caller as an orchestrator, or updates its parameters. On
     * registration they are in force at once (the pool has nothing to earn yet); an update takes
     * effect from the next round, so it cannot apply to earnings already arriving this round.
     * A registered orchestrator left out of the active set also tries to take a seat.
     * @param rewardCut Share of each reward the orchestrator keeps, in ppm.
     * @param feeShare Share of each fee that goes to the delegators (itself included), in ppm.
     * Requirements:
     * - both values are at most 1,000,000;
     * - the caller has no stake delegated to another orchestrator.
     */
    function setOrchestratorParams(uint256 rewardCut, uint256 feeShare) external {
        if (rewardCut > _PPM) revert BondingManagerInvalidFraction(rewardCut);
        if (feeShare > _PPM) revert BondingManagerInvalidFraction(feeShare);
        Orchestrator storage o = _orchestrators[msg.sender];
        uint256 round = _currentRound();
        // Both values are <= _PPM < 2^24, checked above.
        if (!o.registered) {
            Delegator storage d = _delegators[msg.sender];
            uint256 delegateId = d.orchestratorId;
            if (delegateId != 0 && (d.shares != 0 || d.pendingAmount != 0)) {
                revert BondingManagerDelegatedElsewhere(msg.sender, _orchestratorById[delegateId]);
            }
            uint256 id = uint256(_orchestratorCount) + 1;
            _orchestratorCount = id.toUint32();
            _orchestratorById[id] = msg.sender;
            d.orchestratorId = uint32(id);
            o.registered = true;
            o.id = uint32(id);
            // Nonzero from registration on: the first fee credit then rewrites a used slot.
            // Only differences of this factor are ever used.
            o.feePerShare = 1;
            o.rewardCut = uint24(rewardCut);
            o.nextRewardCut = uint24(rewardCut);
            o.feeShare = uint24(feeShare);
            o.nextFeeShare = uint24(feeShare);
            emit OrchestratorUpdated(msg.sender, rewardCut, feeShare, round);
            return;
        }
        if (round >= o.paramsRound) {
            o.rewardCut = o.nextRewardCut;
            o.feeShare = o.nextFeeShare;
        }
        o.nextRewardCut = uint24(rewardCut);
        o.nextFeeShare = uint24(feeShare);
        o.paramsRound = (round + 1).toUint32();
        emit OrchestratorUpdated(msg.sender, rewardCut, feeShare, round + 1);
        if (o.poolIndex == 0 && o.eligible) _tryJoinPool(msg.sender, o, round);
    }

    /**
     * @notice Mints the caller's share of the current round's inflation (its stake bonded
     * since the round's start over the total active stake at the round's start) and shares it
     * with the stake that has been in its pool since the round began. The round is computed
     * from the block number: nothing needs to initialize it first. (No reentrancy guard: it
     * only calls the fixed Minter and Token.)
     * Requirements:
     * - the contract is wired;
     * - the caller is in the current round's active set;
     * - the caller has not called reward() in this round.
     */
    function reward() external {
        IMinter minter_ = _minter;
        if (address(minter_) == address(0)) revert BondingManagerNotWired();
        uint256 round = _currentRound();
        Orchestrator storage o = _orchestrators[msg.sender];
        if (!_isActive(o, round)) revert BondingManagerOrchestratorNotActive(msg.sender, round);
        if (o.lastRewardRoundPlusOne == round + 1) revert BondingManagerRewardAlreadyCalled(msg.sender, round);
        o.lastRewardRoundPlusOne = (round + 1).toUint32();
        _roll(msg.sender, o, round);
        (uint256 activeStake,) = _totalsAt(round);
        uint256 minted = minter_.mintReward(round, _settledStake(o, round), activeStake);
        uint256 cut;
        if (minted != 0) cut = _distributeReward(msg.sender, o, minted, round);
        emit Rewarded(msg.sender, round, minted, cut);
    }

    /**
     * @inheritdoc IBondingManager
     * @dev The fee share in force this round goes to the pool's earning shares through the
     * fees-per-share factor, the rest (all of it when the pool has almost no earning shares) to
     * the orchestrator's cut. Stake bonded this round holds no shares yet, so it gets none.
     * Requirements:
     * - the caller is the TicketBroker.
     */
    function updateOrchestratorWithFees(address orchestrator, uint256 fees) external returns (bool credited) {
        if (msg.sender != address(_ticketBroker)) revert BondingManagerUnauthorizedCaller(msg.sender);
        Orchestrator storage o = _orchestrators[orchestrator];
        if (!o.registered) return false;
        uint256 round = _currentRound();
        _roll(orchestrator, o, round);
        uint256 shares = o.totalShares;
        uint256 toDelegators;
        if (shares >= _MIN_FEE_SHARES) toDelegators = (fees * (round >= o.paramsRound ? o.nextFeeShare : o.feeShare)) / _PPM;
        uint256 acc = o.feePerShare;
        if (toDelegators != 0) acc += (toDelegators * _FEE_PRECISION) / shares;
        // toDelegators <= fees because the fee share is <= _PPM.
        uint256 cutFees = o.cutFees + fees - toDelegators;
        o.feePerShare = acc.toUint160();
        o.cutFees = cutFees.toUint96();
        // No event here: the TicketBroker's WinningTicketRedeemed names the recipient and amount.
        return true;
    }

    // ---------------------------------------------------------------- delegators

    /**
     * @notice Bonds `amount` tokens (transferred from the caller) to orchestrator `to`. When the
     * caller is bonded to another orchestrator, its whole stake moves to `to` as well. The
     * stake bonded or moved in earns from the next round on.
     * Requirements:
     * - `to` is a registered orchestrator;
     * - a registered orchestrator can only bond to itself;
     * - `amount` is positive unless the call moves existing stake;
     * - the caller approved `amount` to this contract.
     */
    function bond(uint256 amount, address to) external nonReentrant {
        Orchestrator storage target = _orchestrators[to];
        if (!target.registered) revert BondingManagerNotOrchestrator(to);
        Delegator storage d = _delegators[msg.sender];
        uint256 round = _currentRound();
        uint256 delegateId = d.orchestratorId;
        uint256 targetId = target.id;
        address previous;
        uint256 moved;
        if (delegateId == targetId) {
            previous = to;
        } else if (delegateId != 0) {
            previous = _orchestratorById[delegateId];
            // A registered orchestrator's delegate is itself.
            if (previous == msg.sender) revert BondingManagerOrchestratorCannotDelegate(msg.sender, to);
            moved = _removeAllStake(msg.sender, d, previous, _orchestrators[previous], round);
        }
        if (amount + moved == 0) revert BondingManagerZeroAmount();
        d.orchestratorId = uint32(targetId);
        uint256 stake = _addStake(msg.sender, d, to, target, amount + moved, round);
        emit Bonded(msg.sender, to, previous, amount, stake);
        if (amount != 0) _token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /**
     * @notice Unbonds `amount` of the caller's stake into a new unbonding lock, withdrawable
     * after the unbonding period. Stake bonded this round is unbonded first.
     * Requirements:
     * - the caller has stake (an orchestrator's waiting reward cut counts);
     * - `amount` is positive and at most its stake.
     */
    function unbond(uint256 amount) external {
        Delegator storage d = _delegators[msg.sender];
        uint256 delegateId = d.orchestratorId;
        if (delegateId == 0) revert BondingManagerNotBonded(msg.sender);
        if (amount == 0) revert BondingManagerZeroAmount();
        address orchestrator = _orchestratorById[delegateId];
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
     * @notice Bonds an unbonding lock's tokens back to the caller's current orchestrator; like
     * any stake joining a pool, they earn from the next round.
     * Requirements:
     * - the caller has unbonding lock `lockId`.
     */
    function rebond(uint256 lockId) external {
        UnbondingLock memory lock = _unbondingLocks[msg.sender][lockId];
        if (lock.amount == 0) revert BondingManagerUnknownUnbondingLock(msg.sender, lockId);
        Delegator storage d = _delegators[msg.sender];
        // A lock exists only after an unbond, so the caller has a delegate.
        address orchestrator = _orchestratorById[d.orchestratorId];
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
     * @notice Settles the caller's pending fees into its withdrawable fee balance, and turns
     * stake bonded in an earlier round into shares. (Reward stake needs no claim: it compounds
     * into the caller's shares as it is minted.)
     * Requirements:
     * - the caller has a delegate (is or was bonded, or is an orchestrator).
     */
    function claimEarnings() external {
        Delegator storage d = _delegators[msg.sender];
        uint256 delegateId = d.orchestratorId;
        if (delegateId == 0) revert BondingManagerNotBonded(msg.sender);
        address orchestrator = _orchestratorById[delegateId];
        _settle(msg.sender, d, orchestrator, _orchestrators[orchestrator], _currentRound());
        FeeLock memory lock = d.feeLock;
        emit EarningsClaimed(msg.sender, uint256(d.fees) + lock.amount + lock.laterAmount);
    }

    /**
     * @notice Withdraws `amount` of the caller's unlocked fees to `recipient`. Fees wait the
     * TicketBroker's unlock period after they are settled into the caller's record (by this
     * call, claimEarnings, or any bond, unbond or rebond), so pending fees settled now are locked.
     * Requirements:
     * - `recipient` is not the zero address; `amount` is positive;
     * - `amount` is at most the caller's unlocked fees (BondingManagerFeesLocked when locked
     *   fees would cover it, naming the round from which they do).
     */
    function withdrawFees(address recipient, uint256 amount) external nonReentrant {
        if (recipient == address(0)) revert BondingManagerInvalidAddress();
        if (amount == 0) revert BondingManagerZeroAmount();
        Delegator storage d = _delegators[msg.sender];
        uint256 delegateId = d.orchestratorId;
        uint256 round = _currentRound();
        if (delegateId != 0) {
            address orchestrator = _orchestratorById[delegateId];
            _settle(msg.sender, d, orchestrator, _orchestrators[orchestrator], round);
        }
        _settleFees(d, 0, round);
        uint256 fees = d.fees;
        if (amount > fees) _revertLockedFees(amount, fees, d.feeLock);
        d.fees = uint96(fees - amount);
        emit FeesWithdrawn(msg.sender, recipient, amount);
        _ticketBroker.transferFees(recipient, amount);
    }

    /// @dev Reverts for a fee withdrawal above the `withdrawable` fees.
    function _revertLockedFees(uint256 amount, uint256 withdrawable, FeeLock memory lock) private pure {
        uint256 firstStep = withdrawable + lock.amount;
        uint256 total = firstStep + lock.laterAmount;
        if (amount > total) revert BondingManagerInsufficientFees(amount, total);
        revert BondingManagerFeesLocked(amount, withdrawable, amount <= firstStep ? lock.unlockRound : lock.laterUnlockRound);
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

    /// @notice Token wei an orchestrator must have bonded to itself to hold a seat in the active set.
    function minSelfStake() external view returns (uint256) {
        return _minSelfStake;
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
    function isActiveInRound(address orchestrator, uint256 round) external view returns (bool) {
        return _isActive(_orchestrators[orchestrator], round);
    }

    /// @inheritdoc IBondingManager
    function activeStatus(address orchestrator) external view returns (bool active, uint256 activeCount) {
        uint256 round = _currentRound();
        (, activeCount) = _totalsAt(round);
        active = _isActive(_orchestrators[orchestrator], round);
    }

    /// @notice All stake bonded to `orchestrator` now (its own and its delegators', this round's included).
    function orchestratorTotalStake(address orchestrator) external view returns (uint256) {
        return _orchestrators[orchestrator].totalStake;
    }

    /// @notice `orchestrator`'s registration, parameters, stake and activity.
    function getOrchestrator(address orchestrator) external view returns (OrchestratorInfo memory info) {
        Orchestrator storage o = _orchestrators[orchestrator];
        uint256 round = _currentRound();
        uint256 rewarded = o.lastRewardRoundPlusOne;
        bool changed = round >= o.paramsRound;
        info = OrchestratorInfo({
            registered: o.registered,
            rewardCut: changed ? o.nextRewardCut : o.rewardCut,
            feeShare: changed ? o.nextFeeShare : o.feeShare,
            totalStake: o.totalStake,
            totalShares: o.totalShares,
            cutStake: o.cutStake,
            activationRound: o.activationRound,
            deactivationRound: o.deactivationRound,
            lastRewardRound: rewarded == 0 ? type(uint256).max : rewarded - 1,
            active: _isActive(o, round),
            inNextActiveSet: o.poolIndex != 0,
            pendingStake: o.totalStake - _settledStake(o, round),
            eligible: o.eligible,
            nextRewardCut: o.nextRewardCut,
            nextFeeShare: o.nextFeeShare
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

    /// @notice `delegator`'s stake: its shares' stake, pending reward compounding included, plus
    /// stake bonded this round. For an orchestrator it includes its waiting reward cut, counted
    /// exactly as the next settle will, so `unbond(pendingStake(x))` always succeeds.
    function pendingStake(address delegator) public view returns (uint256 stake) {
        (stake,) = _preview(delegator);
    }

    /// @notice All of `delegator`'s fees: withdrawable, locked and pending (see feeBalance).
    function pendingFees(address delegator) public view returns (uint256) {
        FeeBalance memory b = feeBalance(delegator);
        return b.withdrawable + b.locked + b.laterLocked + b.unsettled;
    }

    /// @notice `delegator`'s fees split into what it can withdraw now, what is locked until
    /// when, and what is not settled yet (its lock starts when it is settled).
    function feeBalance(address delegator) public view returns (FeeBalance memory balance) {
        (, uint256 unsettled) = _preview(delegator);
        Delegator storage d = _delegators[delegator];
        FeeLock memory lock = d.feeLock;
        uint256 matured = _unlockFees(lock, _currentRound());
        balance = FeeBalance({
            withdrawable: d.fees + matured,
            locked: lock.amount,
            unlockRound: lock.unlockRound,
            laterLocked: lock.laterAmount,
            laterUnlockRound: lock.laterUnlockRound,
            unsettled: unsettled
        });
    }

    /// @notice Rounds that fees wait, once settled into a record, before they can be withdrawn
    /// (the TicketBroker's unlock period).
    function feeLockRounds() external view returns (uint256) {
        return _feeLockRounds;
    }

    /// @notice `delegator`'s delegate, shares, stake, fees (pending included) and next lock id.
    function delegatorInfo(address delegator) external view returns (DelegatorInfo memory info) {
        Delegator storage d = _delegators[delegator];
        info = DelegatorInfo({
            delegate: _orchestratorById[d.orchestratorId],
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
    function _stakeOf(uint256 shares, uint256 poolStake, uint256 totalShares) private pure returns (uint256) {
        if (shares == 0) return 0;
        if (shares == totalShares) return poolStake;
        return (shares * poolStake) / totalShares;
    }

    /// @dev The pool's earning stake: what its shares are worth.
    function _poolStake(Orchestrator storage o) private view returns (uint256) {
        return o.totalStake - o.cutStake - o.pendingStake;
    }

    /// @dev A never-written checkpoint stands for 1, the factor every pool starts at.
    function _checkpointOf(Delegator storage d) private view returns (uint256 checkpoint) {
        checkpoint = d.feeCheckpoint;
        if (checkpoint == 0) checkpoint = 1;
    }

    /// @dev At the pool's first touch in a round after stake joined it, turns that stake into
    /// shares at the current price and records the price and fee factor for its delegators.
    function _roll(address orchestrator, Orchestrator storage o, uint256 round) private {
        uint256 pending = o.pendingStake;
        if (pending == 0) return;
        uint256 cohortRound = o.pendingRound;
        if (cohortRound == round) return;
        uint256 totalShares = o.totalShares;
        uint256 ratio = _sharesPerStake(totalShares, o.totalStake - o.cutStake - pending);
        uint160 acc = o.feePerShare;
        // An unwritten record reads as a fresh pool's (see _cohortOf): no write needed then.
        if (ratio != _RATIO_ONE || acc != 1) {
            _cohorts[orchestrator][cohortRound] = Cohort({sharesPerStake: uint96(ratio), feePerShare: acc});
        }
        o.totalShares = (totalShares + (pending * ratio) / _RATIO_ONE).toUint112();
        o.pendingStake = 0;
    }

    /// @dev Round `round`'s conversion record; a never-written one is a fresh pool's (1 share per
    /// wei, fee factor 1), so pools that start from nothing need no record at all.
    function _cohortOf(address orchestrator, uint256 round) private view returns (Cohort memory c) {
        c = _cohorts[orchestrator][round];
        if (c.sharesPerStake == 0) c = Cohort({sharesPerStake: uint96(_RATIO_ONE), feePerShare: 1});
    }

    /// @dev Shares per stake wei (scaled): 1 for an empty pool, else totalShares / poolStake,
    /// which is at most 1 since rounding always favours the pool (a pool with shares has stake).
    function _sharesPerStake(uint256 totalShares, uint256 poolStake) private pure returns (uint256) {
        if (totalShares == 0) return _RATIO_ONE;
        return (totalShares * _RATIO_ONE) / poolStake;
    }

    /// @dev Rolls the pool, turns the delegator's pending stake from an earlier round into
    /// shares, and moves its pending fees into its balance. Must run before its stake changes.
    function _settle(address delegator, Delegator storage d, address orchestrator, Orchestrator storage o, uint256 round)
        private
    {
        _roll(orchestrator, o, round);
        uint256 acc = o.feePerShare;
        uint256 checkpoint = _checkpointOf(d);
        uint256 shares = d.shares;
        uint256 add;
        // With shares, the checkpoint comes from this same pool, whose factor only grows.
        if (shares != 0) add = (shares * (acc - checkpoint)) / _FEE_PRECISION;
        uint256 newShares;
        uint256 pending = d.pendingAmount;
        if (pending != 0 && d.pendingRound != round) {
            Cohort memory c = _cohortOf(orchestrator, d.pendingRound);
            newShares = (pending * c.sharesPerStake) / _RATIO_ONE;
            add += (newShares * (acc - c.feePerShare)) / _FEE_PRECISION;
            d.pendingAmount = 0;
        }
        if (delegator == orchestrator) {
            uint256 cutFees = o.cutFees;
            if (cutFees != 0) {
                add += cutFees;
                o.cutFees = 0;
            }
            uint256 cutStake = o.cutStake;
            // This round's cut waits until the next round: it joined after the round began.
            if (cutStake != 0 && o.lastRewardRoundPlusOne != round + 1) {
                uint256 totalShares = o.totalShares;
                uint256 cutShares = (cutStake * _sharesPerStake(totalShares, _poolStake(o))) / _RATIO_ONE;
                o.totalShares = (totalShares + cutShares).toUint112();
                o.cutStake = 0;
                newShares += cutShares;
            }
        }
        if (newShares != 0) d.shares = (shares + newShares).toUint96();
        if (acc != checkpoint) d.feeCheckpoint = uint160(acc);
        if (add != 0) _settleFees(d, add, round);
    }

    /// @dev Moves the delegator's unlocked fees into its withdrawable balance and locks `add`
    /// fees settled in `round`; writes only what changed.
    function _settleFees(Delegator storage d, uint256 add, uint256 round) private {
        FeeLock memory lock = d.feeLock;
        uint256 matured = _unlockFees(lock, round);
        if (add != 0) {
            uint256 unlockRound = round + _feeLockRounds;
            // A lock period near 2^32 rounds never ends in practice; saturating keeps settling possible.
            if (unlockRound > type(uint32).max) unlockRound = type(uint32).max;
            if (lock.amount == 0 || lock.unlockRound == unlockRound) {
                lock.amount = (lock.amount + add).toUint96();
                lock.unlockRound = uint32(unlockRound);
            } else {
                lock.laterAmount = (lock.laterAmount + add).toUint96();
                lock.laterUnlockRound = uint32(unlockRound);
            }
        } else if (matured == 0) {
            return;
        }
        d.feeLock = lock;
        if (matured != 0) d.fees = (d.fees + matured).toUint96();
    }

    /// @dev Empties the buckets whose unlock round has come (the later one moves up) and
    /// returns what they held.
    function _unlockFees(FeeLock memory lock, uint256 round) private pure returns (uint256 matured) {
        if (lock.amount == 0 || lock.unlockRound > round) return 0;
        matured = lock.amount;
        uint256 later = lock.laterAmount;
        if (later != 0 && lock.laterUnlockRound <= round) {
            matured += later;
            later = 0;
        }
        lock.amount = uint96(later);
        lock.unlockRound = lock.laterUnlockRound;
        lock.laterAmount = 0;
    }

    /// @dev `delegator`'s stake after _settle: shares' stake, pending stake and (for the
    /// orchestrator) the reward cut still waiting.
    function _settledStakeOf(address delegator, Delegator storage d, address orchestrator, Orchestrator storage o)
        private
        view
        returns (uint256 stake)
    {
        stake = _stakeOf(d.shares, _poolStake(o), o.totalShares) + d.pendingAmount;
        if (delegator == orchestrator) stake += o.cutStake;
    }

    function _addStake(
        address delegator,
        Delegator storage d,
        address orchestrator,
        Orchestrator storage o,
        uint256 amount,
        uint256 round
    ) private returns (uint256 delegatorStake) {
        _settle(delegator, d, orchestrator, o, round);
        if ((amount * _sharesPerStake(o.totalShares, _poolStake(o))) / _RATIO_ONE == 0) {
            revert BondingManagerAmountTooSmall(amount);
        }
        // After _settle the delegator's pending stake, if any, is from this round.
        d.pendingAmount = (d.pendingAmount + amount).toUint96();
        d.pendingRound = uint32(round);
        uint256 poolPending = o.pendingStake;
        if (poolPending == 0) {
            // First stake to join this round (any earlier round's was rolled by _settle). Unless
            // the pool is fresh (its record will read as the default), fill the slot of this
            // round's conversion record now with the default, so the roll that completes it
            // rewrites a used slot instead of filling a fresh one.
            if (o.totalShares != 0 || o.feePerShare != 1) {
                _cohorts[orchestrator][round] = Cohort({sharesPerStake: uint96(_RATIO_ONE), feePerShare: 1});
            }
            o.pendingRound = uint32(round);
        }
        o.pendingStake = (poolPending + amount).toUint96();
        uint256 oldStake = o.totalStake;
        uint256 newStake = oldStake + amount;
        o.totalStake = newStake.toUint96();
        delegatorStake = _settledStakeOf(delegator, d, orchestrator, o);
        if (delegator == orchestrator) _setEligible(o, delegatorStake);
        _onStakeChanged(orchestrator, o, oldStake, newStake, round);
    }

    function _removeStake(address delegator, Delegator storage d, address orchestrator, uint256 amount, uint256 round)
        private
    {
        Orchestrator storage o = _orchestrators[orchestrator];
        _settle(delegator, d, orchestrator, o, round);
        uint256 available = _settledStakeOf(delegator, d, orchestrator, o);
        if (available == 0) revert BondingManagerNotBonded(delegator);
        if (amount > available) revert BondingManagerInsufficientStake(amount, available);
        uint256 totalStake = o.totalStake;
        uint256 poolStake = _poolStake(o);
        uint256 rest = amount;
        // Stake bonded this round goes first: it has earned nothing yet.
        uint256 pending = d.pendingAmount;
        if (pending != 0) {
            uint256 fromPending = Math.min(pending, rest);
            d.pendingAmount = uint96(pending - fromPending);
            o.pendingStake -= uint96(fromPending);
            rest -= fromPending;
        }
        if (rest != 0 && delegator == orchestrator) {
            uint256 cutStake = o.cutStake;
            uint256 fromCut = Math.min(cutStake, rest);
            o.cutStake = uint96(cutStake - fromCut);
            rest -= fromCut;
        }
        if (rest != 0) {
            uint256 shares = d.shares;
            uint256 totalShares = o.totalShares;
            // Rounding the burn up keeps the remaining shares' value; the burn never exceeds
            // `shares` because `rest <= shares * poolStake / totalShares`.
            uint256 burn = rest == _stakeOf(shares, poolStake, totalShares)
                ? shares
                : Math.mulDiv(rest, totalShares, poolStake, Math.Rounding.Ceil);
            d.shares = uint96(shares - burn);
            o.totalShares = uint112(totalShares - burn);
        }
        o.totalStake = uint96(totalStake - amount);
        if (delegator == orchestrator) _setEligible(o, available - amount);
        _onStakeChanged(orchestrator, o, totalStake, totalStake - amount, round);
    }

    /// @dev Removes all of a delegator's stake (never an orchestrator's: it cannot move).
    function _removeAllStake(address delegator, Delegator storage d, address orchestrator, Orchestrator storage o, uint256 round)
        private
        returns (uint256 stake)
    {
        _settle(delegator, d, orchestrator, o, round);
        uint256 shares = d.shares;
        uint256 pending = d.pendingAmount;
        uint256 totalStake = o.totalStake;
        uint256 totalShares = o.totalShares;
        stake = _stakeOf(shares, _poolStake(o), totalShares) + pending;
        d.shares = 0;
        d.pendingAmount = 0;
        // Each part is at most the pool's (see _stakeOf).
        o.pendingStake -= uint96(pending);
        o.totalShares = uint112(totalShares - shares);
        o.totalStake = uint96(totalStake - stake);
        _onStakeChanged(orchestrator, o, totalStake, totalStake - stake, round);
    }

    /// @return cut The orchestrator's cut (all of `minted` when its pool has no earning stake).
    function _distributeReward(address orchestrator, Orchestrator storage o, uint256 minted, uint256 round)
        private
        returns (uint256 cut)
    {
        uint256 totalStake = o.totalStake;
        uint256 rewardCut = round >= o.paramsRound ? o.nextRewardCut : o.rewardCut;
        // Without earning shares (only a waiting cut was bonded since the round began) the whole
        // mint is the cut, so no stake is left without shares.
        cut = _poolStake(o) == 0 ? minted : (minted * rewardCut) / _PPM;
        // The delegators' part raises the stake of every earning share alike; the cut waits in
        // cutStake until the orchestrator's own record is settled.
        o.cutStake = (o.cutStake + cut).toUint96();
        uint256 newTotalStake = totalStake + minted;
        o.totalStake = newTotalStake.toUint96();
        _onStakeChanged(orchestrator, o, totalStake, newTotalStake, round);
    }

    function _setEligible(Orchestrator storage o, uint256 selfStake) private {
        bool eligible = selfStake >= _minSelfStake;
        if (eligible != o.eligible) o.eligible = eligible;
    }

    /// @dev A pool and one of its delegators as _settle would leave them (for the views).
    struct Preview {
        uint256 totalShares;
        uint256 poolStake;
        uint256 acc;
        uint256 shares;
        uint256 pending;
        uint256 fees;
    }

    /// @dev _settle's effect, computed without writing: the delegator's stake and the fees its
    /// next settle adds (which it will lock).
    function _preview(address delegator) private view returns (uint256 stake, uint256 fees) {
        Delegator storage d = _delegators[delegator];
        uint256 delegateId = d.orchestratorId;
        if (delegateId == 0) return (0, 0);
        address orchestrator = _orchestratorById[delegateId];
        Orchestrator storage o = _orchestrators[orchestrator];
        uint256 round = _currentRound();
        Preview memory p = Preview({
            totalShares: o.totalShares,
            poolStake: _poolStake(o),
            acc: o.feePerShare,
            shares: d.shares,
            pending: d.pendingAmount,
            fees: 0
        });
        Cohort memory rolled;
        uint256 poolPending = o.pendingStake;
        bool rolling = poolPending != 0 && o.pendingRound != round;
        if (rolling) {
            rolled = Cohort({sharesPerStake: uint96(_sharesPerStake(p.totalShares, p.poolStake)), feePerShare: uint160(p.acc)});
            p.totalShares += (poolPending * rolled.sharesPerStake) / _RATIO_ONE;
            p.poolStake += poolPending;
        }
        if (p.shares != 0) p.fees += (p.shares * (p.acc - _checkpointOf(d))) / _FEE_PRECISION;
        if (p.pending != 0 && d.pendingRound != round) {
            Cohort memory c =
                rolling && d.pendingRound == o.pendingRound ? rolled : _cohortOf(orchestrator, d.pendingRound);
            uint256 newShares = (p.pending * c.sharesPerStake) / _RATIO_ONE;
            p.fees += (newShares * (p.acc - c.feePerShare)) / _FEE_PRECISION;
            p.shares += newShares;
            p.pending = 0;
        }
        if (delegator == orchestrator) _previewCut(o, p, round);
        return (_stakeOf(p.shares, p.poolStake, p.totalShares) + p.pending, p.fees);
    }

    function _previewCut(Orchestrator storage o, Preview memory p, uint256 round) private view {
        p.fees += o.cutFees;
        uint256 cutStake = o.cutStake;
        if (o.lastRewardRoundPlusOne == round + 1) {
            p.pending += cutStake;
        } else if (cutStake != 0) {
            uint256 cutShares = (cutStake * _sharesPerStake(p.totalShares, p.poolStake)) / _RATIO_ONE;
            p.shares += cutShares;
            p.totalShares += cutShares;
            p.poolStake += cutStake;
        }
    }

    function _setFeeLockRounds(uint256 rounds) private {
        // The TicketBroker bounds its unlock period to 32 bits.
        _feeLockRounds = rounds.toUint32();
        emit FeeLockRoundsUpdated(rounds);
    }

    function _setUnbondingPeriod(uint256 period) private {
        if (period == 0 || period > type(uint32).max) revert BondingManagerInvalidUnbondingPeriod(period);
        _unbondingPeriod = uint32(period);
        emit UnbondingPeriodUpdated(period);
    }
}
