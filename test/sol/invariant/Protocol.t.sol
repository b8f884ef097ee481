// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {BondingManager} from "../../../contracts/bonding/BondingManager.sol";
import {TicketBroker} from "../../../contracts/payments/TicketBroker.sol";
import {Fixture, Segmint} from "../utils/Fixture.sol";
import {Test} from "../utils/Test.sol";
import {PaymentsHandler} from "./PaymentsHandler.sol";
import {ProtocolHandler} from "./ProtocolHandler.sol";

/// @title Protocol-wide invariants under random sequences of every state-changing call:
/// bonding, moves, unbonding, rebonding, rewards, fees, the round clock, the owners' parameters
/// and the active-set size (ProtocolHandler); funding, unlocking, withdrawing, winning, losing
/// and replayed tickets, batches, the broker's parameters and the registry (PaymentsHandler).
contract ProtocolInvariantTest is Test {
    uint256 internal constant SENDER_FUNDS = 1_000_000 * Fixture.TOKEN;

    Segmint internal s;
    ProtocolHandler internal handler;
    PaymentsHandler internal payments;

    function setUp() public {
        s = Fixture.deploy();
        address[] memory orchestrators = new address[](4);
        address[] memory delegators = new address[](4);
        for (uint256 i = 0; i < 4; ++i) {
            orchestrators[i] = address(uint160(0x0C0000 + i));
            delegators[i] = address(uint160(0x0D0000 + i));
        }
        handler = new ProtocolHandler(s, orchestrators, delegators);
        payments = new PaymentsHandler(s, orchestrators);
        // Unequal self-bonds so the 3-seat active set starts full with one orchestrator waiting.
        for (uint256 i = 0; i < 4; ++i) {
            Fixture.fund(s, orchestrators[i], 200_000 * Fixture.TOKEN);
            Fixture.register(s, orchestrators[i], 100_000 * (i + 1), 500_000 + 100_000 * i, (10_000 + i) * Fixture.TOKEN);
            Fixture.fund(s, delegators[i], 100_000 * Fixture.TOKEN);
        }
        for (uint256 i = 0; i < payments.SENDERS(); ++i) {
            Fixture.fund(s, payments.senders(i), SENDER_FUNDS);
        }
        // The handlers take the owner's role for the parameters they change mid-run.
        s.minter.transferOwnership(address(handler));
        s.bonding.transferOwnership(address(handler));
        s.rounds.transferOwnership(address(handler));
        s.broker.transferOwnership(address(payments));
        vm.startPrank(address(handler));
        s.minter.acceptOwnership();
        s.bonding.acceptOwnership();
        s.rounds.acceptOwnership();
        vm.stopPrank();
        vm.prank(address(payments));
        s.broker.acceptOwnership();
        Fixture.nextRound(s);
        targetContract(address(handler));
        targetContract(address(payments));
    }

    /// @dev The handlers' actions really act (so the invariants are not checked against an
    /// idle protocol): a fixed sequence bonds, rewards, pays, refuses losing, unseated and
    /// replayed tickets, takes reserve, unbonds, withdraws, changes parameters, and every
    /// invariant still holds afterwards.
    function testHandlerActionsChangeState() public {
        // Orchestrators 0-2 took the free seats at registration; orchestrator 3's stake counts
        // for a seat from the round after it was bonded (now), and a seat is bid for on a stake
        // or parameter change: unchanged parameters, but it evicts orchestrator 0 (the least
        // settled stake) from the next round.
        handler.updateParams(3, 400_000, 800_000);
        handler.bond(0, 1, 5_000 * Fixture.TOKEN);
        handler.bond(1, 1, 7_000 * Fixture.TOKEN);
        payments.fundDepositAndReserve(0, 100_000 * Fixture.TOKEN, 50_000 * Fixture.TOKEN);
        payments.fundReserve(1, 30_000 * Fixture.TOKEN);
        handler.advanceRounds(1);
        handler.reward(1);
        handler.reward(2);
        payments.redeemTicket(0, 1, 1_000 * Fixture.TOKEN, 42, 0);
        payments.redeemTicket(0, 2, 250_000 * Fixture.TOKEN, 43, 1); // bounded to 50k: still from the deposit
        payments.redeemTicket(0, 0, 1_000 * Fixture.TOKEN, 44, 0); // orchestrator 0 has no seat
        payments.redeemTicket(1, 3, 40_000 * Fixture.TOKEN, 45, 0); // reserve only: capped at 30k / 3
        payments.redeemTicket(1, 3, 40_000 * Fixture.TOKEN, 46, 0); // nothing left of its allocation
        payments.redeemLosingTicket(0, 1, 1_000 * Fixture.TOKEN, 47);
        payments.redeemBatch(0, 1, 1_000 * Fixture.TOKEN, 5); // 4 tickets: 2 winning, 1 losing, 1 repeat
        payments.replayTicket(0, false);
        payments.replayTicket(1, true);
        payments.publishServiceInfo(1, 2);
        payments.publishServiceInfo(0, 1); // no seat: refused
        payments.clearServiceInfo(1);
        handler.claimEarnings(ProtocolHandlerIndex.delegator(0));
        handler.withdrawFees(ProtocolHandlerIndex.delegator(1), type(uint256).max - 1);
        handler.withdrawFees(1, 1); // orchestrator 1's fee cut: locked for the unlock period
        handler.claimEarnings(1); // settles it, which starts its lock
        handler.unbond(ProtocolHandlerIndex.delegator(1), 3_000 * Fixture.TOKEN);
        handler.rebond(ProtocolHandlerIndex.delegator(1), 0);
        handler.unbond(ProtocolHandlerIndex.delegator(1), 2_000 * Fixture.TOKEN);
        handler.setMaxActiveSetSize(4);
        handler.setInflation(500 * Fixture.TOKEN);
        handler.setRoundLength(30);
        payments.setTicketValidityRounds(3); // not below the unlock period (3): refused
        payments.unlock(0);
        payments.withdraw(0); // too early: refused
        payments.cancelUnlock(0);
        payments.unlock(0);
        handler.advanceRounds(2); // bound(2, 1, 3): three rounds, the unlock period
        handler.withdrawStake(ProtocolHandlerIndex.delegator(1), 1);
        payments.withdraw(0);
        handler.withdrawFees(1, 1); // unlocked now

        assertEq(handler.violations(), 0, handler.violation());
        assertEq(payments.violations(), 0, payments.violation());
        assertGe(handler.ghostMinted(), 1, "no reward was minted");
        assertEq(payments.ghostTicketsPaid(), 6, "tickets not redeemed");
        assertGe(payments.ghostPaidFromReserve(), 10_000 * Fixture.TOKEN, "no reserve paid");
        assertEq(payments.ghostUnseatedRejected(), 1, "unseated recipient not refused");
        assertEq(payments.ghostLosingRejected(), 1, "losing ticket not refused");
        assertEq(payments.ghostReplaysRejected(), 2, "replays not rejected");
        assertGe(handler.ghostFeesWithdrawn(), 1, "no fees withdrawn");
        assertGe(payments.ghostWithdrawnBySenders(), 1, "sender could not withdraw");
        assertGe(handler.ghostParamChanges(), 3, "parameters not changed");
        assertGe(payments.ghostExpectedReverts(), 5, "expected reverts not exercised");
        invariantSupplyIsInitialPlusMinted();
        invariantBalancesAccountForSupply();
        invariantBondingManagerHoldsStakeAndLocks();
        invariantDelegatorStakesSumToTotal();
        invariantTicketBrokerSolvent();
        invariantNoTicketRedeemedTwice();
        invariantReserveAllocationPerRound();
        invariantSendersRecoverFundsOnlyByWithdraw();
        invariantValidityBelowUnlockPeriod();
    }

    /// @dev No token appears except through the Minter: supply = initial + what the Minter
    /// reports it minted.
    function invariantSupplyIsInitialPlusMinted() public view {
        assertEq(s.token.totalSupply(), Fixture.INITIAL_SUPPLY + handler.ghostMinted(), "supply != initial + minted");
        assertLe(handler.ghostMinted(), handler.ghostRewardCalls() * handler.ghostMaxInflation(), "minted beyond inflation");
    }

    /// @dev No token is lost: the known holders account for the whole supply.
    function invariantBalancesAccountForSupply() public view {
        address[] memory actors = handler.bondingActors();
        uint256 sum = s.token.balanceOf(address(this)) + s.token.balanceOf(address(handler))
            + s.token.balanceOf(address(payments)) + s.token.balanceOf(address(s.bonding))
            + s.token.balanceOf(address(s.broker)) + s.token.balanceOf(address(s.minter));
        for (uint256 i = 0; i < actors.length; ++i) {
            sum += s.token.balanceOf(actors[i]);
        }
        for (uint256 i = 0; i < payments.SENDERS(); ++i) {
            sum += s.token.balanceOf(payments.senders(i));
        }
        assertEq(sum, s.token.totalSupply(), "balances do not add up to the supply");
    }

    /// @dev The BondingManager holds exactly the bonded stake plus the unbonding locks, and
    /// the active-set total is the sum of its members' stakes.
    function invariantBondingManagerHoldsStakeAndLocks() public view {
        address[] memory actors = handler.bondingActors();
        uint256 bonded;
        for (uint256 i = 0; i < handler.ORCHESTRATORS(); ++i) {
            bonded += s.bonding.orchestratorTotalStake(handler.orchestrators(i));
        }
        uint256 locked;
        for (uint256 i = 0; i < actors.length; ++i) {
            uint256 locks = s.bonding.delegatorInfo(actors[i]).nextUnbondingLockId;
            for (uint256 id = 0; id < locks; ++id) {
                (uint256 amount,) = s.bonding.unbondingLock(actors[i], id);
                locked += amount;
            }
        }
        assertEq(s.token.balanceOf(address(s.bonding)), bonded + locked, "BondingManager balance != stake + locks");

        address[] memory pool = s.bonding.nextActiveSet();
        assertLe(pool.length, s.bonding.maxActiveSetSize(), "active set over its bound");
        uint256 poolStake;
        for (uint256 i = 0; i < pool.length; ++i) {
            poolStake += s.bonding.orchestratorTotalStake(pool[i]);
        }
        assertEq(s.bonding.nextRoundTotalActiveStake(), poolStake, "next active stake != sum of members' stake");
    }

    /// @dev The sum of the bonds is the total bonded: per orchestrator, its delegators' stakes
    /// (its own self-bond, waiting reward cut and this round's pending stake included) add up to
    /// its total stake, less the rounding the share accounting allows:
    /// - under one wei per shareholder, as a holder's stake is its shares' value rounded down;
    /// - the value of the shares nobody owns. Stake bonded in a round turns into shares at the
    ///   next round's first touch: the pool mints shares for its whole pending stake, rounded
    ///   down once, and each delegator later gets its own part, rounded down, so every
    ///   (delegator, round) conversion may leave under one share unowned, for good (even after
    ///   all holders leave). The handler counts the stake additions into each pool, at least
    ///   one per such conversion (the registration bonds in setUp convert at one share per wei,
    ///   exactly). A share is worth poolStake / totalShares; the view's figures can only
    ///   overstate that price (shares for stake not yet converted are missing), never understate it.
    function invariantDelegatorStakesSumToTotal() public view {
        address[] memory actors = handler.bondingActors();
        for (uint256 o = 0; o < handler.ORCHESTRATORS(); ++o) {
            address orchestrator = handler.orchestrators(o);
            uint256 sum;
            uint256 holders;
            for (uint256 i = 0; i < actors.length; ++i) {
                BondingManager.DelegatorInfo memory info = s.bonding.delegatorInfo(actors[i]);
                if (info.delegate != orchestrator) continue;
                sum += info.stake;
                if (info.shares != 0) ++holders;
            }
            uint256 total = s.bonding.orchestratorTotalStake(orchestrator);
            assertLe(sum, total, "delegators' stakes exceed the orchestrator's total");
            BondingManager.OrchestratorInfo memory pool = s.bonding.getOrchestrator(orchestrator);
            uint256 unowned;
            if (pool.totalShares != 0) {
                uint256 poolStake = pool.totalStake - pool.cutStake - pool.pendingStake;
                unowned = Math.mulDiv(handler.ghostStakeAdditions(orchestrator), poolStake, pool.totalShares, Math.Rounding.Ceil);
            }
            assertLe(total - sum, holders + unowned, "rounding dust above one wei per holder and one share per conversion");
        }
    }

    /// @dev The TicketBroker's balance covers every deposit, reserve and fee it holds; funds
    /// left = funded - paid - withdrawn (so deposits and reserves never went below zero), and
    /// the fees owed to delegators never exceed the fees held.
    function invariantTicketBrokerSolvent() public view {
        uint256 funds;
        for (uint256 i = 0; i < payments.SENDERS(); ++i) {
            TicketBroker.SenderInfo memory info = s.broker.getSenderInfo(payments.senders(i));
            funds += info.deposit + info.reserve;
        }
        assertEq(
            funds,
            payments.ghostFunded() - payments.ghostPaidToRecipients() - payments.ghostWithdrawnBySenders(),
            "deposits + reserves != funded - paid - withdrawn"
        );
        uint256 feesHeld = payments.ghostPaidToRecipients() - handler.ghostFeesWithdrawn();
        assertEq(s.token.balanceOf(address(s.broker)), funds + feesHeld, "TicketBroker balance != funds + fees held");

        address[] memory actors = handler.bondingActors();
        uint256 owed;
        for (uint256 i = 0; i < actors.length; ++i) {
            owed += s.bonding.pendingFees(actors[i]);
        }
        assertLe(owed, feesHeld, "fees owed exceed the fees held");
        // Each settlement and each holder's final rounding leave under one wei behind.
        assertLe(feesHeld - owed, handler.ghostSettlements() + actors.length, "fee rounding dust too large");
    }

    /// @dev No ticket pays twice, alone or in a batch.
    function invariantNoTicketRedeemedTwice() public view {
        assertEq(payments.ghostReplaysAccepted(), 0, "a redeemed ticket was accepted again");
    }

    /// @dev Reserve allocation: in the current round no orchestrator has taken more of any
    /// sender's reserve than (the reserve before the round's claims) / active orchestrators,
    /// counted from the handler's own ghosts (what is left, what was claimed and what the
    /// sender withdrew since); and no earlier round broke it either.
    function invariantReserveAllocationPerRound() public view {
        assertEq(payments.ghostReserveOverdrawn(), 0, "a recipient took more than its reserve allocation");
        uint256 round = s.rounds.currentRound();
        uint256 activeCount = s.bonding.activeOrchestratorCount();
        for (uint256 i = 0; i < payments.SENDERS(); ++i) {
            address sender = payments.senders(i);
            uint256 taken = payments.ghostReserveTakenInRound(sender, round);
            assertEq(s.broker.getSenderInfo(sender).reserveClaimedInCurrentRound, taken, "claimed this round != ghost");
            uint256 base = s.broker.getSenderInfo(sender).reserve + taken + payments.ghostReserveWithdrawnInRound(sender, round);
            for (uint256 o = 0; o < handler.ORCHESTRATORS(); ++o) {
                address orchestrator = handler.orchestrators(o);
                uint256 took = payments.ghostReserveTaken(sender, round, orchestrator);
                assertEq(s.broker.claimedReserve(sender, orchestrator), took, "claimedReserve != ghost");
                if (took != 0) assertLe(took, base / activeCount, "reserve allocation exceeded");
            }
        }
    }

    /// @dev A sender's tokens come back only through withdraw() after its unlock period: its
    /// balance is what it started with, less what it funded, plus what withdraw() returned.
    function invariantSendersRecoverFundsOnlyByWithdraw() public view {
        for (uint256 i = 0; i < payments.SENDERS(); ++i) {
            address sender = payments.senders(i);
            assertEq(
                s.token.balanceOf(sender),
                // Withdrawn first: a sender may fund, withdraw and fund again, past its start.
                SENDER_FUNDS + payments.ghostWithdrawnBy(sender) - payments.ghostFundedBy(sender),
                "a sender's balance moved other than by funding and withdraw"
            );
        }
    }

    /// @dev No sender recovers funds except by withdraw() after its unlock period, counting fees
    /// routed through an orchestrator it runs (or delegates to): every fee withdrawn by now was
    /// paid by a ticket at least the (smallest) unlock period ago, whoever withdrew it.
    function invariantFeesWaitTheUnlockPeriod() public view {
        uint256 round = s.rounds.currentRound();
        uint256 lock = payments.ghostMinUnlockPeriod();
        uint256 unlocked = round < lock ? 0 : payments.paidThrough(round - lock);
        assertLe(handler.ghostFeesWithdrawn(), unlocked, "fees withdrawn before the unlock period");
    }

    /// @dev Whatever the owner does, no ticket outlives its sender's unlock period.
    function invariantValidityBelowUnlockPeriod() public view {
        assertLe(s.broker.ticketValidityRounds() + 1, s.broker.unlockPeriod(), "validity not below the unlock period");
    }

    /// @dev Every per-call expectation in the handlers held, and no valid call reverted.
    function invariantHandlersSawNoViolation() public view {
        assertEq(handler.violations(), 0, handler.violation());
        assertEq(payments.violations(), 0, payments.violation());
    }
}

/// @dev Seeds that make the handler pick a given delegator (its accounts are orchestrators
/// 0-3, then delegators 4-7).
library ProtocolHandlerIndex {
    function delegator(uint256 i) internal pure returns (uint256) {
        return 4 + i;
    }
}
