// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/**
 * @title ActiveSet
 * @notice The BondingManager's orchestrator records and its active set: up to
 * `maxActiveSetSize` orchestrators with the most stake at the time they entered; entries and
 * exits take effect the next round. Per-orchestrator and total active stake are checkpointed
 * at the first change in each round, so the values "at the start of the current round" need
 * no per-round writes by a keeper. An orchestrator left out of a full set enters when its
 * stake changes (or it calls setOrchestratorParams) while it exceeds the smallest member's
 * stake; that scan is bounded by MAX_ACTIVE_SET_SIZE.
 */
abstract contract ActiveSet {
    using SafeCast for uint256;

    /// @notice Upper bound of the active set size (bounds the eviction scan's gas).
    uint256 public constant MAX_ACTIVE_SET_SIZE = 100;
    uint32 internal constant _NEVER = type(uint32).max;

    /// @dev Packed by access path: reward() touches slots 0 and 2, fee crediting slots 1 and 3.
    /// totalStake = the shares' stake + cutStake. The orchestrator's reward cut waits in
    /// cutStake (and its fee cut in cutFees) until its own record is next settled, so reward()
    /// and fee crediting never write to a delegator record.
    struct Orchestrator {
        // slot 0
        uint24 rewardCut;
        uint16 poolIndex; // 1-based position in `_pool`; 0 when not in next round's set
        uint32 lastRewardRoundPlusOne; // 0 = never
        uint32 activationRound;
        uint32 deactivationRound;
        uint112 cutStake;
        // slot 1
        bool registered;
        uint24 feeShare;
        uint112 totalShares;
        uint112 cutFees;
        // slot 2
        uint112 totalStake;
        uint112 stakeAtRoundStart; // valid when lastStakeUpdateRound is the current round
        uint32 lastStakeUpdateRound;
        // slot 3
        uint256 feePerShare; // scaled by 1e27; starts at 1 so crediting never writes a fresh slot
    }

    /// @dev Next round's active-set totals and, checkpointed at the first change of a round,
    /// the values at that round's start. One slot.
    struct ActiveTotals {
        uint104 nextStake;
        uint104 roundStartStake;
        uint8 nextCount;
        uint8 roundStartCount;
        uint32 lastUpdateRound;
    }

    uint16 private _maxActiveSetSize;
    ActiveTotals private _totals;
    /// @dev Next round's active set by 0-based position; its length is `_totals.nextCount`,
    /// which saves the separate length slot an array would write.
    mapping(uint256 position => address) private _pool;
    mapping(address => Orchestrator) internal _orchestrators;

    /// @notice The maximum active set size changed.
    event MaxActiveSetSizeUpdated(uint256 maxActiveSetSize);
    /// @notice `orchestrator` enters the active set from `round`.
    event OrchestratorActivated(address indexed orchestrator, uint256 round);
    /// @notice `orchestrator` leaves the active set from `round`.
    event OrchestratorDeactivated(address indexed orchestrator, uint256 round);

    /// @notice The active set size must be between max(1, current members) and MAX_ACTIVE_SET_SIZE.
    error BondingManagerInvalidActiveSetSize(uint256 size, uint256 currentMembers);

    constructor(uint256 maxActiveSetSize_) {
        _setMaxActiveSetSize(maxActiveSetSize_);
        // A nonzero slot from the start (the sentinel round never matches a real one), so the
        // first orchestrator to join pays for rewriting it, not for filling an empty slot.
        _totals.lastUpdateRound = _NEVER;
    }

    /// @notice The maximum number of orchestrators in the active set.
    function maxActiveSetSize() external view returns (uint256) {
        return _maxActiveSetSize;
    }

    /// @notice Total stake of next round's active set as it stands now.
    function nextRoundTotalActiveStake() external view returns (uint256) {
        return _totals.nextStake;
    }

    /// @notice Next round's active set as it stands now (at most MAX_ACTIVE_SET_SIZE addresses).
    /// The current round's set is these plus any evicted this round; check isActiveOrchestrator.
    function nextActiveSet() external view returns (address[] memory) {
        uint256 count = _totals.nextCount;
        address[] memory members = new address[](count);
        for (uint256 i = 0; i < count; ++i) {
            members[i] = _pool[i];
        }
        return members;
    }

    function _isActive(Orchestrator storage o, uint256 round) internal view returns (bool) {
        return o.activationRound <= round && round < o.deactivationRound;
    }

    function _stakeAtRoundStart(Orchestrator storage o, uint256 round) internal view returns (uint256) {
        return o.lastStakeUpdateRound == round ? o.stakeAtRoundStart : o.totalStake;
    }

    function _totalsAt(uint256 round) internal view returns (uint256 stake, uint256 count) {
        ActiveTotals memory t = _totals;
        if (t.lastUpdateRound == round) return (t.roundStartStake, t.roundStartCount);
        return (t.nextStake, t.nextCount);
    }

    /// @dev Checkpoints the round-start stake, then keeps next round's active set in step.
    function _onStakeChanged(
        address orchestrator,
        Orchestrator storage o,
        uint256 oldStake,
        uint256 newStake,
        uint256 round
    ) internal {
        if (o.lastStakeUpdateRound != round) {
            // oldStake was a stored uint112.
            o.stakeAtRoundStart = uint112(oldStake);
            o.lastStakeUpdateRound = round.toUint32();
        }
        uint256 index = o.poolIndex;
        if (index != 0) {
            if (newStake == 0) {
                _removeFromPool(orchestrator, o, index, round);
                _updateTotals(round, 0, oldStake, false, true);
            } else {
                _updateTotals(round, newStake, oldStake, false, false);
            }
        } else if (newStake != 0 && o.registered) {
            _tryJoinPool(orchestrator, o, newStake, round);
        }
    }

    function _tryJoinPool(address orchestrator, Orchestrator storage o, uint256 stake, uint256 round) internal {
        uint256 size = _totals.nextCount;
        if (size < _maxActiveSetSize) {
            _pool[size] = orchestrator;
            // size < _maxActiveSetSize <= 100, so it fits in 16 bits.
            o.poolIndex = uint16(size + 1);
            _activate(orchestrator, o, round);
            _updateTotals(round, stake, 0, true, false);
            return;
        }
        uint256 minIndex;
        uint256 minStake = type(uint256).max;
        for (uint256 i = 0; i < size; ++i) {
            uint256 memberStake = _orchestrators[_pool[i]].totalStake;
            if (memberStake < minStake) {
                minStake = memberStake;
                minIndex = i;
            }
        }
        if (stake <= minStake) return;
        address evicted = _pool[minIndex];
        Orchestrator storage e = _orchestrators[evicted];
        e.poolIndex = 0;
        e.deactivationRound = (round + 1).toUint32();
        emit OrchestratorDeactivated(evicted, round + 1);
        _pool[minIndex] = orchestrator;
        o.poolIndex = uint16(minIndex + 1);
        _activate(orchestrator, o, round);
        _updateTotals(round, stake, minStake, false, false);
    }

    function _removeFromPool(address orchestrator, Orchestrator storage o, uint256 index, uint256 round) private {
        uint256 last = _totals.nextCount;
        if (index != last) {
            address moved = _pool[last - 1];
            _pool[index - 1] = moved;
            _orchestrators[moved].poolIndex = uint16(index);
        }
        // The caller decrements nextCount (the length) in the same step.
        delete _pool[last - 1];
        o.poolIndex = 0;
        o.deactivationRound = (round + 1).toUint32();
        emit OrchestratorDeactivated(orchestrator, round + 1);
    }

    function _activate(address orchestrator, Orchestrator storage o, uint256 round) private {
        uint256 next = round + 1;
        // Evicted earlier this round but still active in it: cancelling the exit keeps it active.
        if (!(o.deactivationRound == next && o.activationRound <= round)) o.activationRound = next.toUint32();
        o.deactivationRound = _NEVER;
        emit OrchestratorActivated(orchestrator, next);
    }

    /// @dev Rolls the round-start checkpoint on the first change of a round, then applies the change.
    function _updateTotals(uint256 round, uint256 addStake, uint256 removeStake, bool addMember, bool removeMember)
        private
    {
        ActiveTotals memory t = _totals;
        if (t.lastUpdateRound != round) {
            t.roundStartStake = t.nextStake;
            t.roundStartCount = t.nextCount;
            t.lastUpdateRound = round.toUint32();
        }
        t.nextStake = (uint256(t.nextStake) + addStake - removeStake).toUint104();
        if (addMember) ++t.nextCount;
        if (removeMember) --t.nextCount;
        _totals = t;
    }

    function _setMaxActiveSetSize(uint256 size) internal {
        uint256 members = _totals.nextCount;
        if (size == 0 || size > MAX_ACTIVE_SET_SIZE || size < members) {
            revert BondingManagerInvalidActiveSetSize(size, members);
        }
        _maxActiveSetSize = uint16(size);
        emit MaxActiveSetSizeUpdated(size);
    }
}
