// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/**
 * @title ActiveSet
 * @notice The BondingManager's orchestrator records and its active set: up to
 * `maxActiveSetSize` orchestrators; entries and exits take effect the next round.
 *
 * Seats: only an orchestrator whose own bonded stake (self-stake) is at least
 * `minSelfStake` may hold one; one that falls below it leaves the set at once (from the next
 * round). While the set has free seats, an eligible orchestrator takes one when its stake
 * changes or it calls setOrchestratorParams. A full set is entered by evicting the member with
 * the least *settled stake* when the newcomer's settled stake is larger. Settled stake is the
 * stake that has been bonded to the orchestrator since the current round began (stake bonded or
 * moved in during the round counts from the next round), so stake moved in for a moment cannot
 * win a seat. Total active stake is checkpointed at the first change of each round, so the
 * values "at the start of the current round" need no per-round writes by a keeper.
 *
 * Gas: a stake change of a non-member that cannot win a seat in a full set costs one
 * comparison with a cached lower bound of the members' settled stakes. Only a candidate above
 * that bound scans the members (at most MAX_ACTIVE_SET_SIZE reads of one slot each), and the
 * scan refreshes the bound.
 */
abstract contract ActiveSet {
    using SafeCast for uint256;

    /// @notice Upper bound of the active set size (bounds the eviction scan's gas).
    uint256 public constant MAX_ACTIVE_SET_SIZE = 100;
    uint32 internal constant _NEVER = type(uint32).max;

    /// @dev Packed by access path: reward() touches slots 0 and 1, fee crediting slots 1 (read),
    /// 2 (read) and 3; bonding slots 0 (read), 1 and 2 (read).
    /// totalStake = the shares' stake + pendingStake + cutStake. The orchestrator's reward cut
    /// waits in cutStake (and its fee cut in cutFees) until its own record is next settled, so
    /// reward() and fee crediting never write to a delegator record.
    struct Orchestrator {
        // slot 0: reward() and the active set
        uint32 activationRound;
        uint32 deactivationRound;
        uint32 lastRewardRoundPlusOne; // 0 = never
        uint16 poolIndex; // 1-based position in `_pool`; 0 when not in next round's set
        uint24 rewardCut; // in force before paramsRound
        uint24 nextRewardCut; // in force from paramsRound
        uint96 cutStake;
        // slot 1: stake
        uint96 totalStake;
        uint96 pendingStake; // bonded in pendingRound: earns from the round after
        uint32 pendingRound;
        uint32 paramsRound;
        // slot 2: registration and fee crediting
        bool registered;
        bool eligible; // self-stake >= minSelfStake
        uint32 id;
        uint24 feeShare; // in force before paramsRound
        uint24 nextFeeShare; // in force from paramsRound
        uint112 totalShares;
        // slot 3
        uint160 feePerShare; // scaled by _FEE_PRECISION; starts at 1 so crediting never fills a fresh slot
        uint96 cutFees;
    }

    /// @dev Next round's active-set totals and, checkpointed at the first change of a round,
    /// the values at that round's start; plus a lower bound of the members' settled stakes
    /// (see _encodeBound). One slot.
    struct ActiveTotals {
        uint96 nextStake;
        uint96 roundStartStake;
        uint8 nextCount;
        uint8 roundStartCount;
        uint32 lastUpdateRound;
        uint16 minStakeBound;
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
    /// @notice `orchestrator`, announced to leave the active set from `round`, stays in it.
    event OrchestratorDeactivationCancelled(address indexed orchestrator, uint256 round);

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

    /// @dev Stake bonded since `round` began: total stake less what joined during `round`.
    function _settledStake(Orchestrator storage o, uint256 round) internal view returns (uint256) {
        uint256 stake = o.totalStake;
        if (o.pendingRound == round) stake -= o.pendingStake;
        return stake;
    }

    function _totalsAt(uint256 round) internal view returns (uint256 stake, uint256 count) {
        ActiveTotals memory t = _totals;
        if (t.lastUpdateRound == round) return (t.roundStartStake, t.roundStartCount);
        return (t.nextStake, t.nextCount);
    }

    /// @dev Keeps next round's active set in step with a change of `o`'s total stake or
    /// eligibility (`o.totalStake` is already `newStake`).
    function _onStakeChanged(
        address orchestrator,
        Orchestrator storage o,
        uint256 oldStake,
        uint256 newStake,
        uint256 round
    ) internal {
        uint256 index = o.poolIndex;
        if (index != 0) {
            ActiveTotals memory t = _rolledTotals(round);
            if (!o.eligible) {
                _removeFromPool(orchestrator, o, index, t.nextCount, round);
                t.nextStake = (uint256(t.nextStake) - oldStake).toUint96();
                --t.nextCount;
            } else {
                t.nextStake = (uint256(t.nextStake) + newStake - oldStake).toUint96();
                if (newStake < oldStake) _lowerBound(t, _settledStake(o, round));
            }
            _totals = t;
        } else if (o.eligible) {
            _tryJoinPool(orchestrator, o, round);
        }
    }

    function _tryJoinPool(address orchestrator, Orchestrator storage o, uint256 round) internal {
        ActiveTotals memory t = _rolledTotals(round);
        uint256 size = t.nextCount;
        uint256 stake = _settledStake(o, round);
        if (size < _maxActiveSetSize) {
            _pool[size] = orchestrator;
            // size < _maxActiveSetSize <= 100, so it fits in 16 bits.
            o.poolIndex = uint16(size + 1);
            _activate(orchestrator, o, round);
            t.nextStake = (uint256(t.nextStake) + o.totalStake).toUint96();
            if (size == 0) t.minStakeBound = _encodeBound(stake);
            else _lowerBound(t, stake);
            ++t.nextCount;
            _totals = t;
            return;
        }
        // No member's settled stake is below the bound: a candidate at or under it cannot win.
        if (stake <= _decodeBound(t.minStakeBound)) return;
        uint256 minIndex;
        uint256 minStake = type(uint256).max;
        uint256 secondStake = type(uint256).max;
        for (uint256 i = 0; i < size; ++i) {
            uint256 memberStake = _settledStake(_orchestrators[_pool[i]], round);
            if (memberStake < minStake) {
                secondStake = minStake;
                minStake = memberStake;
                minIndex = i;
            } else if (memberStake < secondStake) {
                secondStake = memberStake;
            }
        }
        if (stake <= minStake) {
            // Refresh the bound so the next candidate at or under it needs no scan.
            t.minStakeBound = _encodeBound(minStake);
            _totals = t;
            return;
        }
        address evicted = _pool[minIndex];
        Orchestrator storage e = _orchestrators[evicted];
        e.poolIndex = 0;
        e.deactivationRound = (round + 1).toUint32();
        emit OrchestratorDeactivated(evicted, round + 1);
        _pool[minIndex] = orchestrator;
        o.poolIndex = uint16(minIndex + 1);
        _activate(orchestrator, o, round);
        t.nextStake = (uint256(t.nextStake) + o.totalStake - e.totalStake).toUint96();
        t.minStakeBound = _encodeBound(Math.min(secondStake, stake));
        _totals = t;
    }

    function _removeFromPool(address orchestrator, Orchestrator storage o, uint256 index, uint256 last, uint256 round)
        private
    {
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
        // Active now and announced to leave next round: it stays, so it does not enter anew.
        bool leaving = o.activationRound <= round && o.deactivationRound == next;
        o.deactivationRound = _NEVER;
        if (leaving) {
            emit OrchestratorDeactivationCancelled(orchestrator, next);
        } else {
            o.activationRound = next.toUint32();
            emit OrchestratorActivated(orchestrator, next);
        }
    }

    /// @dev The totals with the round-start checkpoint rolled to `round` (first change of a round).
    function _rolledTotals(uint256 round) private view returns (ActiveTotals memory t) {
        t = _totals;
        if (t.lastUpdateRound != round) {
            t.roundStartStake = t.nextStake;
            t.roundStartCount = t.nextCount;
            t.lastUpdateRound = round.toUint32();
        }
    }

    function _lowerBound(ActiveTotals memory t, uint256 stake) private pure {
        if (stake < _decodeBound(t.minStakeBound)) t.minStakeBound = _encodeBound(stake);
    }

    /// @dev A 16-bit floating-point value rounded down (9-bit mantissa, 7-bit exponent), so a
    /// lower bound stays a lower bound: within 0.4% of the value, which is all the cheap
    /// rejection needs.
    function _encodeBound(uint256 value) private pure returns (uint16) {
        if (value < 512) return uint16(value);
        uint256 exponent = Math.log2(value) - 8;
        return uint16((exponent << 9) | (value >> exponent));
    }

    function _decodeBound(uint16 bound) private pure returns (uint256) {
        return uint256(bound & 0x1ff) << (bound >> 9);
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
