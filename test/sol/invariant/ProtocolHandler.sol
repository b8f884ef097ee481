// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ActiveSet} from "../../../contracts/bonding/ActiveSet.sol";
import {BondingManager} from "../../../contracts/bonding/BondingManager.sol";
import {RoundsManager} from "../../../contracts/rounds/RoundsManager.sol";
import {Minter} from "../../../contracts/token/Minter.sol";
import {Fixture, Segmint} from "../utils/Fixture.sol";
import {CheckedHandler} from "./CheckedHandler.sol";

/// @title Drives bonding, rewards, fees, the round clock and the owner's parameters with
/// bounded random inputs, every call through CheckedHandler's checked paths, and keeps the
/// ghost totals the invariants compare with the contracts' own accounting. The sender side
/// (funds, tickets, registry) is PaymentsHandler's.
contract ProtocolHandler is CheckedHandler {
    uint256 public constant ORCHESTRATORS = 4;
    uint256 public constant DELEGATORS = 4;

    address[] public orchestrators;
    address[] public delegators;

    uint256 public ghostMinted;
    uint256 public ghostRewardCalls;
    uint256 public ghostFeesWithdrawn;
    uint256 public ghostSettlements;
    uint256 public ghostParamChanges;
    /// @notice Successful bonds, moves and rebonds into each orchestrator's pool. Each adds to a
    /// delegator's stake pending for the round, which the next round converts into shares, so
    /// this bounds the number of (delegator, round) conversions into the pool.
    mapping(address orchestrator => uint256) public ghostStakeAdditions;
    mapping(uint256 round => uint256) internal _mintedInRound;
    /// @dev Each round's inflation as the Minter reported it before the round's first mint.
    mapping(uint256 round => uint256) internal _roundInflation;
    uint256 public ghostMaxInflation = Fixture.INFLATION_PER_ROUND;

    constructor(Segmint memory segmint, address[] memory orchestrators_, address[] memory delegators_) {
        s = segmint;
        orchestrators = orchestrators_;
        delegators = delegators_;
    }

    /// @dev Every bonding account (orchestrators, then delegators).
    function bondingActors() external view returns (address[] memory all) {
        all = new address[](ORCHESTRATORS + DELEGATORS);
        for (uint256 i = 0; i < ORCHESTRATORS; ++i) all[i] = orchestrators[i];
        for (uint256 i = 0; i < DELEGATORS; ++i) all[ORCHESTRATORS + i] = delegators[i];
    }

    // ------------------------------------------------------------ bonding

    function bond(uint256 who, uint256 to, uint256 amount) external {
        address delegator = delegators[who % DELEGATORS];
        address orchestrator = orchestrators[to % ORCHESTRATORS];
        uint256 balance = s.token.balanceOf(delegator);
        if (balance == 0) return;
        amount = bound(amount, 1, balance);
        bytes memory call = abi.encodeCall(BondingManager.bond, (amount, orchestrator));
        if (_act(delegator, address(s.bonding), call, BondingManager.BondingManagerAmountTooSmall.selector)) {
            ++ghostSettlements;
            ++ghostStakeAdditions[orchestrator];
        }
    }

    /// @dev Moves a delegator's whole stake to another orchestrator (bond of 0).
    function move(uint256 who, uint256 to) external {
        address delegator = delegators[who % DELEGATORS];
        address orchestrator = orchestrators[to % ORCHESTRATORS];
        BondingManager.DelegatorInfo memory info = s.bonding.delegatorInfo(delegator);
        if (info.shares == 0 || info.delegate == orchestrator) return;
        bytes memory call = abi.encodeCall(BondingManager.bond, (0, orchestrator));
        if (_act(delegator, address(s.bonding), call, BondingManager.BondingManagerAmountTooSmall.selector)) {
            ++ghostSettlements;
            ++ghostStakeAdditions[orchestrator];
        }
    }

    function selfBond(uint256 who, uint256 amount) external {
        address orchestrator = orchestrators[who % ORCHESTRATORS];
        uint256 balance = s.token.balanceOf(orchestrator);
        if (balance == 0) return;
        amount = bound(amount, 1, balance);
        bytes memory call = abi.encodeCall(BondingManager.bond, (amount, orchestrator));
        if (_act(orchestrator, address(s.bonding), call, BondingManager.BondingManagerAmountTooSmall.selector)) {
            ++ghostSettlements;
            ++ghostStakeAdditions[orchestrator];
        }
    }

    /// @dev Unbonds up to one wei more than the stake (refused). Stake bonded this round has no
    /// shares yet but can be unbonded all the same, so what counts is the stake, not the shares:
    /// an account with a delegate and no stake left is refused as not bonded.
    function unbond(uint256 who, uint256 amount) external {
        address account = _bondedAccount(who);
        BondingManager.DelegatorInfo memory info = s.bonding.delegatorInfo(account);
        if (info.stake == 0) {
            if (info.delegate != address(0)) {
                _expectRevert(
                    account,
                    address(s.bonding),
                    abi.encodeCall(BondingManager.unbond, (1)),
                    BondingManager.BondingManagerNotBonded.selector
                );
            }
            return;
        }
        amount = bound(amount, 1, info.stake + 1);
        bytes memory call = abi.encodeCall(BondingManager.unbond, (amount));
        if (amount > info.stake) {
            _expectRevert(account, address(s.bonding), call, BondingManager.BondingManagerInsufficientStake.selector);
            return;
        }
        if (_act(account, address(s.bonding), call)) ++ghostSettlements;
    }

    function rebond(uint256 who, uint256 lockSeed) external {
        address account = _bondedAccount(who);
        (bool found, uint256 lockId) = _findLock(account, lockSeed, false);
        if (!found) return;
        bytes memory call = abi.encodeCall(BondingManager.rebond, (lockId));
        if (_act(account, address(s.bonding), call, BondingManager.BondingManagerAmountTooSmall.selector)) {
            ++ghostSettlements;
            ++ghostStakeAdditions[s.bonding.delegatorInfo(account).delegate];
        }
    }

    function withdrawStake(uint256 who, uint256 lockSeed) external {
        address account = _bondedAccount(who);
        (bool found, uint256 lockId) = _findLock(account, lockSeed, true);
        if (!found) {
            // A lock not yet withdrawable must be refused.
            (bool pending, uint256 pendingId) = _findLock(account, lockSeed, false);
            if (!pending) return;
            _expectRevert(
                account,
                address(s.bonding),
                abi.encodeCall(BondingManager.withdrawStake, (pendingId)),
                BondingManager.BondingManagerUnbondingLockNotWithdrawable.selector
            );
            return;
        }
        (uint256 amount,) = s.bonding.unbondingLock(account, lockId);
        uint256 before = s.token.balanceOf(account);
        if (!_act(account, address(s.bonding), abi.encodeCall(BondingManager.withdrawStake, (lockId)))) return;
        _check(s.token.balanceOf(account) - before == amount, "withdrawStake paid other than the lock");
    }

    function reward(uint256 who) external {
        address orchestrator = orchestrators[who % ORCHESTRATORS];
        uint256 round = s.rounds.currentRound();
        BondingManager.OrchestratorInfo memory info = s.bonding.getOrchestrator(orchestrator);
        bytes memory call = abi.encodeCall(BondingManager.reward, ());
        if (!info.active) {
            _expectRevert(orchestrator, address(s.bonding), call, BondingManager.BondingManagerOrchestratorNotActive.selector);
            return;
        }
        if (info.lastRewardRound == round) {
            _expectRevert(orchestrator, address(s.bonding), call, BondingManager.BondingManagerRewardAlreadyCalled.selector);
            return;
        }
        uint256 mintableBefore = s.minter.mintableInRound(round);
        uint256 supplyBefore = s.token.totalSupply();
        if (!_act(orchestrator, address(s.bonding), call)) return;
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

    /// @dev Orchestrators change their cuts mid-way; earnings so far must be unaffected.
    function updateParams(uint256 who, uint256 rewardCut, uint256 feeShare) external {
        address orchestrator = orchestrators[who % ORCHESTRATORS];
        rewardCut = bound(rewardCut, 0, Fixture.PPM + 1);
        feeShare = bound(feeShare, 0, Fixture.PPM);
        bytes memory call = abi.encodeCall(BondingManager.setOrchestratorParams, (rewardCut, feeShare));
        if (rewardCut > Fixture.PPM) {
            _expectRevert(orchestrator, address(s.bonding), call, BondingManager.BondingManagerInvalidFraction.selector);
            return;
        }
        uint256 stake = s.bonding.pendingStake(orchestrator);
        uint256 fees = s.bonding.pendingFees(orchestrator);
        if (!_act(orchestrator, address(s.bonding), call)) return;
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

    /// @dev Withdraws up to one wei more than all the account's fees: above them is refused as
    /// insufficient, above the unlocked ones as locked.
    function withdrawFees(uint256 who, uint256 amount) external {
        address account = _bondedAccount(who);
        BondingManager.FeeBalance memory balance = s.bonding.feeBalance(account);
        uint256 fees = balance.withdrawable + balance.locked + balance.laterLocked + balance.unsettled;
        _check(fees == s.bonding.pendingFees(account), "feeBalance does not add up to pendingFees");
        if (fees == 0) return;
        amount = bound(amount, 1, fees + 1);
        bytes memory call = abi.encodeCall(BondingManager.withdrawFees, (account, amount));
        if (amount > fees) {
            _expectRevert(account, address(s.bonding), call, BondingManager.BondingManagerInsufficientFees.selector);
            return;
        }
        if (amount > balance.withdrawable) {
            _expectRevert(account, address(s.bonding), call, BondingManager.BondingManagerFeesLocked.selector);
            return;
        }
        uint256 before = s.token.balanceOf(account);
        if (!_act(account, address(s.bonding), call)) return;
        _check(s.token.balanceOf(account) - before == amount, "withdrawFees paid a different amount");
        ghostFeesWithdrawn += amount;
        ++ghostSettlements;
    }

    // ------------------------------------------------------------ owner (the handler owns the
    // Minter, the BondingManager and the RoundsManager in the invariant suite)

    function setInflation(uint256 amount) external {
        amount = bound(amount, 0, 5_000 * Fixture.TOKEN);
        if (!_act(address(this), address(s.minter), abi.encodeCall(Minter.setInflationPerRound, (amount)))) return;
        if (amount > ghostMaxInflation) ghostMaxInflation = amount;
        ++ghostParamChanges;
    }

    /// @dev Active-set size changes, including below the current membership (refused).
    function setMaxActiveSetSize(uint256 size) external {
        uint256 members = s.bonding.nextActiveSet().length;
        size = bound(size, 0, 5);
        bytes memory call = abi.encodeCall(BondingManager.setMaxActiveSetSize, (size));
        if (size == 0 || size < members) {
            _expectRevert(address(this), address(s.bonding), call, ActiveSet.BondingManagerInvalidActiveSetSize.selector);
            return;
        }
        if (_act(address(this), address(s.bonding), call)) ++ghostParamChanges;
    }

    function setUnbondingPeriod(uint256 period) external {
        period = bound(period, 1, 4);
        bytes memory call = abi.encodeCall(BondingManager.setUnbondingPeriod, (period));
        if (_act(address(this), address(s.bonding), call)) ++ghostParamChanges;
    }

    /// @dev A new round length applies from the next round; rounds never go back.
    function setRoundLength(uint256 length) external {
        length = bound(length, 5, 40);
        uint256 round = s.rounds.currentRound();
        uint256 start = s.rounds.currentRoundStartBlock();
        if (!_act(address(this), address(s.rounds), abi.encodeCall(RoundsManager.setRoundLength, (length)))) return;
        _check(s.rounds.currentRound() == round, "setRoundLength moved the current round");
        _check(s.rounds.currentRoundStartBlock() == start, "setRoundLength moved the round's start");
        ++ghostParamChanges;
    }

    // ------------------------------------------------------------ time

    function initializeRound() external {
        uint256 round = s.rounds.currentRound();
        if (!_act(address(this), address(s.rounds), abi.encodeCall(RoundsManager.initializeRound, ()))) return;
        _check(s.rounds.blockHashForRound(round) != bytes32(0), "an initialized round has no block hash");
    }

    function advanceRounds(uint256 rounds) external {
        rounds = bound(rounds, 1, 3);
        for (uint256 i = 0; i < rounds; ++i) {
            _nextRound();
        }
    }

    function advanceBlocks(uint256 blocks) external {
        blocks = bound(blocks, 1, 19);
        vm.roll(block.number + blocks);
    }

    // ------------------------------------------------------------ internals

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
        returns (bool found, uint256 lockId)
    {
        uint256 count = s.bonding.delegatorInfo(account).nextUnbondingLockId;
        if (count == 0) return (false, 0);
        uint256 round = s.rounds.currentRound();
        // Reduced first: lockSeed is any uint256, and lockSeed + k could overflow.
        uint256 start = lockSeed % count;
        for (uint256 k = 0; k < count; ++k) {
            uint256 id = (start + k) % count;
            (uint256 lockAmount, uint256 withdrawRound) = s.bonding.unbondingLock(account, id);
            if (lockAmount == 0) continue;
            if (withdrawable && round < withdrawRound) continue;
            return (true, id);
        }
    }
}
