// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BondingManager} from "../../../contracts/bonding/BondingManager.sol";
import {ITicketBroker} from "../../../contracts/interfaces/ITicketBroker.sol";
import {Fixture, Segmint} from "../utils/Fixture.sol";
import {Test} from "../utils/Test.sol";

/// @title Fuzzed properties of the BondingManager's earnings and seats.
/// @dev Earnings fairness: a pool's earnings in a round go to the stake present since the round
/// began and still there, pro rata. The test replays random rounds (rewards and fees at random
/// points, a "churner" delegator bonding, unbonding and moving out and back in between them)
/// against a plain model that applies that rule event by event, and compares every delegator's
/// stake and fees. Dust: the model floors once per delegator per event and the contract once
/// per share conversion and per factor update, so they may differ by `_DUST_PER_EVENT` wei per
/// event, plus one share's price per conversion of pending stake (a bond's shares are rounded
/// down).
contract BondingPropertiesTest is Test {
    uint256 private constant _TOKEN = Fixture.TOKEN;
    uint256 private constant _PPM = Fixture.PPM;
    uint256 private constant _SENDER_KEY = 0x9E0F;
    uint256 private constant _ROUNDS = 4;
    uint256 private constant _STEPS = 6;
    uint256 private constant _N = 4; // 0: the orchestrator, 1 and 2: observers, 3: the churner
    uint256 private constant _DUST_PER_EVENT = 3;

    Segmint internal s;
    address internal orch = address(0x0C1);
    address internal other = address(0x0C2);
    address internal sender;
    address[_N] internal accounts;
    uint256 internal nonce;

    // The model, for pool `orch`.
    uint256[_N] internal settled; // stake present since the round began
    uint256[_N] internal pending; // stake bonded this round
    uint256[_N] internal fees;
    uint256 internal events;
    uint256 internal conversions;
    uint256 internal feeDust;
    uint256 internal rewardCut;
    uint256 internal feeShare;

    function setUp() public {
        s = Fixture.deploy();
        sender = vm.addr(_SENDER_KEY);
        accounts[0] = orch;
        accounts[1] = address(0x0D1);
        accounts[2] = address(0x0D2);
        accounts[3] = address(0x0D3);
        for (uint256 i = 0; i < _N; ++i) {
            Fixture.fund(s, accounts[i], 1_000_000 * _TOKEN);
        }
        Fixture.fund(s, other, 1_000_000 * _TOKEN);
        Fixture.fund(s, sender, 2_000_000 * _TOKEN);
        vm.prank(sender);
        s.broker.fundDeposit(2_000_000 * _TOKEN);
    }

    function testFuzzEarningsGoToStakePresentSinceTheRoundBegan(
        uint256 cut,
        uint256 share,
        uint256[_N] memory bonds,
        uint256[_STEPS * _ROUNDS] memory steps
    ) public {
        rewardCut = bound(cut, 0, _PPM);
        feeShare = bound(share, 0, _PPM);
        Fixture.register(s, other, 0, 0, 100_000 * _TOKEN);
        vm.prank(orch);
        s.bonding.setOrchestratorParams(rewardCut, feeShare);
        for (uint256 i = 0; i < _N; ++i) {
            uint256 amount = bound(bonds[i], 1 * _TOKEN, 100_000 * _TOKEN);
            vm.prank(accounts[i]);
            s.bonding.bond(amount, orch);
            pending[i] = amount;
        }
        for (uint256 r = 0; r < _ROUNDS; ++r) {
            _newRound();
            bool rewarded;
            for (uint256 k = 0; k < _STEPS; ++k) {
                uint256 step = steps[r * _STEPS + k];
                uint256 kind = step % 5;
                uint256 value = step >> 8;
                if (kind == 0 && !rewarded) {
                    rewarded = true;
                    _reward();
                } else if (kind == 1) {
                    _fee(bound(value, 1, 20_000 * _TOKEN));
                } else if (kind == 2) {
                    _churnBond(bound(value, 1 * _TOKEN, 50_000 * _TOKEN));
                } else if (kind == 3) {
                    _churnUnbond(value);
                } else {
                    _churnMove();
                }
            }
        }
        _newRound();

        uint256 dust = _DUST_PER_EVENT * (events + 1) + conversions * _sharePrice();
        for (uint256 i = 1; i < _N; ++i) {
            assertApproxEq(s.bonding.pendingStake(accounts[i]), settled[i] + pending[i], dust, "stake != model");
            // Fees are shared by stakes that may each be some dust off the model's (see _fee).
            assertApproxEq(s.bonding.pendingFees(accounts[i]), fees[i], dust + feeDust, "fees != model");
        }
    }

    /// @dev A bond is worth exactly its amount at once, and within one share's price (plus 1
    /// wei) of it once it becomes shares in the next round.
    function testFuzzBondIsWorthItsAmount(uint256 selfBond, uint256 amount, uint8 rounds) public {
        selfBond = bound(selfBond, Fixture.MIN_SELF_STAKE, 1_000_000 * _TOKEN);
        amount = bound(amount, 1 * _TOKEN, 1_000_000 * _TOKEN);
        Fixture.register(s, orch, 0, 0, selfBond);
        // Grow the share price for a few rounds first.
        for (uint256 r = 0; r < bound(rounds, 0, 3); ++r) {
            Fixture.nextRound(s);
            vm.prank(orch);
            s.bonding.reward();
        }
        address bonder = accounts[1];
        uint256 before = s.bonding.pendingStake(bonder);
        vm.prank(bonder);
        s.bonding.bond(amount, orch);
        assertEq(s.bonding.pendingStake(bonder), before + amount, "a bond is not worth its amount at once");
        uint256 price = _sharePrice();
        Fixture.nextRound(s);
        vm.prank(bonder);
        s.bonding.claimEarnings();
        uint256 later = s.bonding.pendingStake(bonder);
        assertLe(later, amount, "a bond gained without earning");
        assertGe(later + price + 1, amount, "a bond lost more than one share's price");
    }

    /// @dev Seats: after random stakes, self-stakes (some below the minimum) and moves over a few
    /// rounds, touching every orchestrator once leaves next round's set as the top K of eligible
    /// settled stake: every member eligible, and either every eligible orchestrator is in or no
    /// outsider has more settled stake than any member.
    function testFuzzActiveSetIsTheTopOfEligibleSettledStake(
        uint256[6] memory selfBonds,
        uint256[12] memory moves
    ) public {
        address[6] memory orchs;
        for (uint256 i = 0; i < 6; ++i) {
            orchs[i] = address(uint160(0x0E00 + i));
            Fixture.fund(s, orchs[i], 100_000 * _TOKEN);
            // A third below the minimum self-stake.
            uint256 amount = i % 3 == 2
                ? bound(selfBonds[i], 1, Fixture.MIN_SELF_STAKE - 1)
                : bound(selfBonds[i], Fixture.MIN_SELF_STAKE, 50_000 * _TOKEN);
            Fixture.register(s, orchs[i], 0, 0, amount);
        }
        for (uint256 k = 0; k < moves.length; ++k) {
            address delegator = accounts[1 + (k % 3)];
            address to = orchs[moves[k] % 6];
            if (k % 4 == 3 && k < moves.length - 1) Fixture.nextRound(s);
            vm.prank(delegator);
            s.bonding.bond(bound(moves[k] >> 8, 0, 20_000 * _TOKEN) + 1, to);
        }
        // Touch every orchestrator mid-round, with this round's moves still pending.
        for (uint256 i = 0; i < 6; ++i) {
            vm.prank(orchs[i]);
            s.bonding.setOrchestratorParams(0, 0);
        }
        address[] memory set = s.bonding.nextActiveSet();
        uint256 minMember = type(uint256).max;
        for (uint256 j = 0; j < set.length; ++j) {
            BondingManager.OrchestratorInfo memory info = s.bonding.getOrchestrator(set[j]);
            assertTrue(info.eligible, "a member below the minimum self-stake");
            uint256 settledStake = info.totalStake - info.pendingStake;
            if (settledStake < minMember) minMember = settledStake;
        }
        for (uint256 i = 0; i < 6; ++i) {
            BondingManager.OrchestratorInfo memory info = s.bonding.getOrchestrator(orchs[i]);
            assertEq(info.eligible ? 1 : 0, i % 3 == 2 ? 0 : 1, "eligibility != self-stake >= minimum");
            if (info.inNextActiveSet || !info.eligible) continue;
            assertEq(set.length, Fixture.MAX_ACTIVE_SET_SIZE, "an eligible orchestrator left out of a set with room");
            assertLe(info.totalStake - info.pendingStake, minMember, "an outsider has more settled stake than a member");
        }
    }

    // ------------------------------------------------------------ the model

    function _newRound() private {
        Fixture.nextRound(s);
        s.rounds.initializeRound();
        for (uint256 i = 0; i < _N; ++i) {
            if (pending[i] != 0) ++conversions;
            settled[i] += pending[i];
            pending[i] = 0;
        }
    }

    function _reward() private {
        uint256 before = s.bonding.orchestratorTotalStake(orch);
        vm.prank(orch);
        s.bonding.reward();
        uint256 minted = s.bonding.orchestratorTotalStake(orch) - before;
        uint256 pool = _modelPool();
        if (pool == 0 || minted == 0) return;
        uint256 toDelegators = minted - (minted * rewardCut) / _PPM;
        for (uint256 i = 0; i < _N; ++i) {
            settled[i] += (toDelegators * settled[i]) / pool;
        }
        ++events;
    }

    function _fee(uint256 amount) private {
        uint256 rand = uint256(keccak256(abi.encode("fee", ++nonce)));
        ITicketBroker.Ticket memory t = Fixture.ticket(s, sender, orch, amount, type(uint256).max, nonce, rand);
        s.broker.redeemWinningTicket(t, Fixture.sign(s, _SENDER_KEY, t), rand);
        uint256 pool = _modelPool();
        if (pool == 0) return;
        uint256 toDelegators = (amount * feeShare) / _PPM;
        for (uint256 i = 0; i < _N; ++i) {
            fees[i] += (toDelegators * settled[i]) / pool;
        }
        // The split uses stakes that may each be `dust` wei off the contract's, which moves each
        // share by up to 2 * dust / pool of the fees shared (tens of thousands of wei when a few
        // tokens of stake share 20,000 tokens of fees; nothing at realistic sizes).
        uint256 dust = _DUST_PER_EVENT * (events + 1) + conversions * _sharePrice();
        feeDust += (2 * dust * toDelegators) / pool + 1;
        ++events;
    }

    function _churnBond(uint256 amount) private {
        address churner = accounts[3];
        vm.prank(churner);
        s.bonding.bond(amount, orch);
        pending[3] += amount;
    }

    /// @dev Unbonds part of the churner's stake: pending stake first, then settled stake.
    function _churnUnbond(uint256 value) private {
        address churner = accounts[3];
        uint256 stake = s.bonding.pendingStake(churner);
        if (stake == 0) return;
        uint256 amount = bound(value, 1, stake);
        vm.prank(churner);
        s.bonding.unbond(amount);
        uint256 fromPending = amount < pending[3] ? amount : pending[3];
        pending[3] -= fromPending;
        uint256 rest = amount - fromPending;
        settled[3] = rest >= settled[3] ? 0 : settled[3] - rest;
    }

    /// @dev Moves the churner's whole stake out to `other` and straight back: it is pending again.
    function _churnMove() private {
        address churner = accounts[3];
        if (s.bonding.pendingStake(churner) == 0) return;
        vm.prank(churner);
        s.bonding.bond(0, other);
        vm.prank(churner);
        s.bonding.bond(0, orch);
        uint256 stake = s.bonding.pendingStake(churner);
        settled[3] = 0;
        pending[3] = stake;
    }

    function _modelPool() private view returns (uint256 pool) {
        for (uint256 i = 0; i < _N; ++i) {
            pool += settled[i];
        }
    }

    /// @dev Stake per earning share, rounded up (the reward cut and pending stake excluded).
    function _sharePrice() private view returns (uint256) {
        BondingManager.OrchestratorInfo memory o = s.bonding.getOrchestrator(orch);
        if (o.totalShares == 0) return 1;
        uint256 poolStake = o.totalStake - o.cutStake - o.pendingStake;
        return (poolStake + o.totalShares - 1) / o.totalShares;
    }
}
