// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ITicketBroker} from "../../../contracts/interfaces/ITicketBroker.sol";
import {Fixture, Segmint} from "../utils/Fixture.sol";
import {Test} from "../utils/Test.sol";

/// @title A delegator's claim equals the sum of its per-round shares.
/// @dev The contract shares rewards and fees through cumulative factors (O(1) per claim); this
/// test replays the same rounds with a plain per-round model (each round, each delegator gets
/// `amount * its stake / pool stake`) and compares what pendingStake/pendingFees report. The
/// model floors once per delegator per event and the contract floors once per share
/// conversion, so they may differ by a few wei: at most `_DUST_PER_EVENT` per event.
contract EarningsTest is Test {
    uint256 private constant _ROUNDS = 4;
    uint256 private constant _DELEGATORS = 3; // index 0 is the orchestrator's self-bond
    uint256 private constant _DUST_PER_EVENT = 3;
    uint256 private constant _SENDER_KEY = 0x5E1DE5;

    Segmint internal s;
    address internal orchestrator = address(0x0C01);
    address internal sender;
    address[_DELEGATORS] internal accounts;

    // The per-round model.
    uint256[_DELEGATORS] internal modelStake;
    uint256[_DELEGATORS] internal modelFees;
    uint256 internal modelCutStake;
    uint256 internal modelCutFees;
    uint256 internal events;
    bool internal bonded;
    uint256 internal oneShareFees;
    uint256 internal feesToDelegators;
    uint256 internal initialPool;

    function setUp() public {
        s = Fixture.deploy();
        sender = vm.addr(_SENDER_KEY);
        accounts[0] = orchestrator;
        accounts[1] = address(0x0D01);
        accounts[2] = address(0x0D02);
        for (uint256 i = 0; i < _DELEGATORS; ++i) {
            Fixture.fund(s, accounts[i], 1_000_000 * Fixture.TOKEN);
        }
        Fixture.fund(s, sender, 1_000_000 * Fixture.TOKEN);
        vm.prank(sender);
        s.broker.fundDeposit(1_000_000 * Fixture.TOKEN);
    }

    function testFuzzClaimEqualsSumOfRoundShares(
        uint256 rewardCut,
        uint256 feeShare,
        uint256[_DELEGATORS] memory bonds,
        uint256[_ROUNDS] memory fees,
        uint256 extraBond,
        uint256 extraBondRound
    ) public {
        rewardCut = bound(rewardCut, 0, Fixture.PPM);
        feeShare = bound(feeShare, 0, Fixture.PPM);
        extraBond = bound(extraBond, 1 * Fixture.TOKEN, 100_000 * Fixture.TOKEN);
        extraBondRound = bound(extraBondRound, 1, _ROUNDS - 1);

        vm.prank(orchestrator);
        s.bonding.setOrchestratorParams(rewardCut, feeShare);
        for (uint256 i = 0; i < _DELEGATORS; ++i) {
            bonds[i] = bound(bonds[i], 1 * Fixture.TOKEN, 100_000 * Fixture.TOKEN);
            vm.prank(accounts[i]);
            s.bonding.bond(bonds[i], orchestrator);
            modelStake[i] = bonds[i];
            initialPool += bonds[i];
        }
        Fixture.nextRound(s);

        for (uint256 r = 0; r < _ROUNDS; ++r) {
            _rewardRound();
            _feeRound(bound(fees[r], 0, 10_000 * Fixture.TOKEN), r);
            if (r == 1) {
                // A claim part-way must not change what the delegator ends up with.
                vm.prank(accounts[1]);
                s.bonding.claimEarnings();
            }
            if (r == extraBondRound) {
                // A stake change mid-way changes every later round's proportions. New shares are
                // rounded down, so the bonder gets up to one share (1e-18 token) less, which then
                // earns for the others: the model cannot see that, so allow one share's worth of
                // stake (its final price) and of the fees credited after the bond.
                bonded = true;
                vm.prank(accounts[2]);
                s.bonding.bond(extraBond, orchestrator);
                modelStake[2] += extraBond;
                ++events;
            }
            Fixture.nextRound(s);
        }

        uint256 dust = _DUST_PER_EVENT * (events + 1) + _sharePrice() + 1 + oneShareFees;
        // The model's stakes drift from the exact ones by at most `dust` wei, and each fee split
        // uses them as proportions: that shifts fees by up to 2 * dust / pool of the fees shared
        // (tens of wei when 1-token stakes share 10,000-token fees; a wei or two at realistic sizes).
        uint256 feeDust = dust + (2 * dust * feesToDelegators) / initialPool + 1;
        for (uint256 i = 1; i < _DELEGATORS; ++i) {
            assertApproxEq(s.bonding.pendingStake(accounts[i]), modelStake[i], dust, "delegator stake != sum of round shares");
            assertApproxEq(s.bonding.pendingFees(accounts[i]), modelFees[i], feeDust, "delegator fees != sum of round shares");
        }
        assertApproxEq(
            s.bonding.pendingStake(orchestrator),
            modelStake[0] + modelCutStake,
            dust,
            "orchestrator stake != self-bond shares + reward cuts"
        );
        assertApproxEq(
            s.bonding.pendingFees(orchestrator),
            modelFees[0] + modelCutFees,
            feeDust,
            "orchestrator fees != self-bond shares + fee cuts"
        );

        // What is reported is what is paid: each settles its fees, waits out their lock and
        // withdraws them exactly.
        for (uint256 i = 0; i < _DELEGATORS; ++i) {
            vm.prank(accounts[i]);
            s.bonding.claimEarnings();
        }
        for (uint256 i = 0; i < Fixture.UNLOCK_PERIOD; ++i) {
            Fixture.nextRound(s);
        }
        for (uint256 i = 0; i < _DELEGATORS; ++i) {
            uint256 pending = s.bonding.pendingFees(accounts[i]);
            if (pending == 0) continue;
            uint256 before = s.token.balanceOf(accounts[i]);
            vm.prank(accounts[i]);
            s.bonding.withdrawFees(accounts[i], pending);
            assertEq(s.token.balanceOf(accounts[i]) - before, pending, "withdrawn fees != pending fees");
        }
    }

    /// @dev The claim costs the same however many rounds passed: settle once after many rounds.
    function testFuzzClaimAfterManyRoundsMatchesEarlyClaims(uint256 feeAmount, uint8 roundCount) public {
        feeAmount = bound(feeAmount, 1 * Fixture.TOKEN, 1_000 * Fixture.TOKEN);
        uint256 rounds = bound(roundCount, 2, 12);
        vm.prank(orchestrator);
        s.bonding.setOrchestratorParams(100_000, 500_000);
        for (uint256 i = 0; i < _DELEGATORS; ++i) {
            vm.prank(accounts[i]);
            s.bonding.bond(10_000 * Fixture.TOKEN, orchestrator);
        }
        Fixture.nextRound(s);
        for (uint256 r = 0; r < rounds; ++r) {
            vm.prank(orchestrator);
            s.bonding.reward();
            _redeem(feeAmount, r);
            // Delegator 1 claims every round, delegator 2 never: equal bonds, equal earnings.
            vm.prank(accounts[1]);
            s.bonding.claimEarnings();
            Fixture.nextRound(s);
        }
        assertApproxEq(
            s.bonding.pendingFees(accounts[1]), s.bonding.pendingFees(accounts[2]), 2 * rounds, "claim timing changed fees"
        );
        assertEq(s.bonding.pendingStake(accounts[1]), s.bonding.pendingStake(accounts[2]), "claim timing changed stake");
    }

    // ------------------------------------------------------------ model

    function _rewardRound() private {
        uint256 round = s.rounds.currentRound();
        uint256 mintableBefore = s.minter.mintableInRound(round);
        vm.prank(orchestrator);
        s.bonding.reward();
        uint256 minted = mintableBefore - s.minter.mintableInRound(round);
        // The only active orchestrator gets the whole round's inflation.
        assertEq(minted, Fixture.INFLATION_PER_ROUND, "sole orchestrator did not get the round's inflation");
        uint256 cut = (minted * s.bonding.getOrchestrator(orchestrator).rewardCut) / Fixture.PPM;
        uint256 toDelegators = minted - cut;
        uint256 pool = _modelPool();
        for (uint256 i = 0; i < _DELEGATORS; ++i) {
            modelStake[i] += (toDelegators * modelStake[i]) / pool;
        }
        modelCutStake += cut;
        ++events;
    }

    function _feeRound(uint256 amount, uint256 nonce) private {
        if (amount == 0) return;
        _redeem(amount, nonce);
        uint256 toDelegators = (amount * s.bonding.getOrchestrator(orchestrator).feeShare) / Fixture.PPM;
        uint256 pool = _modelPool();
        for (uint256 i = 0; i < _DELEGATORS; ++i) {
            modelFees[i] += (toDelegators * modelStake[i]) / pool;
        }
        modelCutFees += amount - toDelegators;
        feesToDelegators += toDelegators;
        if (bonded) oneShareFees += toDelegators / s.bonding.getOrchestrator(orchestrator).totalShares + 1;
        ++events;
    }

    function _redeem(uint256 amount, uint256 nonce) private {
        ITicketBroker.Ticket memory t =
            Fixture.ticket(s, sender, orchestrator, amount, type(uint256).max, nonce, uint256(keccak256(abi.encode(nonce))));
        bytes memory sig = Fixture.sign(s, _SENDER_KEY, t);
        s.broker.redeemWinningTicket(t, sig, uint256(keccak256(abi.encode(nonce))));
    }

    /// @dev Stake per pool share, rounded down (the reward cut waiting outside the pool excluded).
    function _sharePrice() private view returns (uint256) {
        (uint256 totalStake, uint256 cutStake, uint256 totalShares) = (
            s.bonding.getOrchestrator(orchestrator).totalStake,
            s.bonding.getOrchestrator(orchestrator).cutStake,
            s.bonding.getOrchestrator(orchestrator).totalShares
        );
        return (totalStake - cutStake) / totalShares;
    }

    /// @dev The stake that earns: the delegators' stakes, the waiting reward cut excluded
    /// (the contract turns the cut into shares only when the orchestrator's record is settled).
    function _modelPool() private view returns (uint256 pool) {
        for (uint256 i = 0; i < _DELEGATORS; ++i) {
            pool += modelStake[i];
        }
    }
}
