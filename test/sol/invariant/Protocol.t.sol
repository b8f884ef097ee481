// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BondingManager} from "../../../contracts/bonding/BondingManager.sol";
import {TicketBroker} from "../../../contracts/payments/TicketBroker.sol";
import {Fixture, Segmint} from "../utils/Fixture.sol";
import {Test} from "../utils/Test.sol";
import {ProtocolHandler} from "./ProtocolHandler.sol";

/// @dev Seeds that make the handler pick a given delegator (its accounts are orchestrators
/// 0-3, then delegators 4-7).
library ProtocolHandlerIndex {
    function delegator(uint256 i) internal pure returns (uint256) {
        return 4 + i;
    }
}

/// @title Protocol-wide invariants under random sequences of bonding, rewards, fees, tickets
/// and round changes (ProtocolHandler drives the calls).
contract ProtocolInvariantTest is Test {
    Segmint internal s;
    ProtocolHandler internal handler;

    function setUp() public {
        s = Fixture.deploy();
        address[] memory orchestrators = new address[](4);
        address[] memory delegators = new address[](4);
        for (uint256 i = 0; i < 4; ++i) {
            orchestrators[i] = address(uint160(0x0C0000 + i));
            delegators[i] = address(uint160(0x0D0000 + i));
        }
        handler = new ProtocolHandler(s, orchestrators, delegators);
        // Unequal self-bonds so the 3-seat active set starts full with one orchestrator waiting.
        for (uint256 i = 0; i < 4; ++i) {
            Fixture.fund(s, orchestrators[i], 200_000 * Fixture.TOKEN);
            Fixture.register(s, orchestrators[i], 100_000 * (i + 1), 500_000 + 100_000 * i, (10_000 + i) * Fixture.TOKEN);
            Fixture.fund(s, delegators[i], 100_000 * Fixture.TOKEN);
        }
        for (uint256 i = 0; i < handler.SENDERS(); ++i) {
            Fixture.fund(s, handler.senders(i), 1_000_000 * Fixture.TOKEN);
        }
        // The handler takes the owner's role for the parameters it changes mid-run.
        s.minter.transferOwnership(address(handler));
        s.bonding.transferOwnership(address(handler));
        vm.startPrank(address(handler));
        s.minter.acceptOwnership();
        s.bonding.acceptOwnership();
        vm.stopPrank();
        Fixture.nextRound(s);
        targetContract(address(handler));
    }

    /// @dev The handler's actions really act (so the invariants are not checked against an
    /// idle protocol): a fixed sequence bonds, rewards, pays tickets, replays them, unbonds,
    /// withdraws, and every invariant still holds afterwards.
    function testHandlerActionsChangeState() public {
        handler.bond(0, 1, 5_000 * Fixture.TOKEN);
        handler.bond(1, 1, 7_000 * Fixture.TOKEN);
        handler.fundDepositAndReserve(0, 100_000 * Fixture.TOKEN, 50_000 * Fixture.TOKEN);
        handler.advanceRounds(1);
        handler.reward(1);
        handler.reward(2);
        handler.redeemTicket(0, 1, 1_000 * Fixture.TOKEN, 42);
        handler.redeemTicket(0, 2, 250_000 * Fixture.TOKEN, 43); // bounded to 50k: still from the deposit
        handler.replayTicket(0, false);
        handler.replayTicket(1, true);
        handler.claimEarnings(ProtocolHandlerIndex.delegator(0));
        handler.withdrawFees(ProtocolHandlerIndex.delegator(1), type(uint256).max);
        handler.withdrawFees(1, 1); // orchestrator 1 (its fee cut)
        handler.unbond(ProtocolHandlerIndex.delegator(1), 3_000 * Fixture.TOKEN);
        handler.advanceRounds(3);
        handler.withdrawStake(ProtocolHandlerIndex.delegator(1), 0);
        handler.unlock(0);
        handler.advanceRounds(2);
        handler.withdraw(0);

        assertEq(handler.violations(), 0, handler.violation());
        assertGe(handler.ghostMinted(), 1, "no reward was minted");
        assertEq(handler.ghostTicketsPaid(), 2, "tickets not redeemed");
        assertGe(handler.ghostPaidToRecipients(), 1_000 * Fixture.TOKEN, "tickets paid nothing");
        assertEq(handler.ghostReplaysRejected(), 2, "replays not rejected");
        assertGe(handler.ghostFeesWithdrawn(), 1, "no fees withdrawn");
        assertGe(handler.ghostWithdrawnBySenders(), 1, "sender could not withdraw");
        invariantSupplyIsInitialPlusMinted();
        invariantBalancesAccountForSupply();
        invariantBondingManagerHoldsStakeAndLocks();
        invariantDelegatorStakesSumToTotal();
        invariantTicketBrokerSolvent();
        invariantNoTicketRedeemedTwice();
    }

    /// @dev No token appears except through the Minter: supply = initial + what the Minter
    /// reports it minted.
    function invariantSupplyIsInitialPlusMinted() public view {
        assertEq(s.token.totalSupply(), Fixture.INITIAL_SUPPLY + handler.ghostMinted(), "supply != initial + minted");
        assertLe(handler.ghostMinted(), handler.ghostRewardCalls() * handler.ghostMaxInflation(), "minted beyond inflation");
    }

    /// @dev No token is lost: the known holders account for the whole supply.
    function invariantBalancesAccountForSupply() public view {
        address[] memory actors = handler.actors();
        uint256 sum = s.token.balanceOf(address(this)) + s.token.balanceOf(address(handler))
            + s.token.balanceOf(address(s.bonding)) + s.token.balanceOf(address(s.broker))
            + s.token.balanceOf(address(s.minter));
        for (uint256 i = 0; i < actors.length; ++i) {
            sum += s.token.balanceOf(actors[i]);
        }
        assertEq(sum, s.token.totalSupply(), "balances do not add up to the supply");
    }

    /// @dev The BondingManager holds exactly the bonded stake plus the unbonding locks, and
    /// the active-set total is the sum of its members' stakes.
    function invariantBondingManagerHoldsStakeAndLocks() public view {
        address[] memory actors = handler.actors();
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
    /// (its own self-bond and waiting reward cut included) add up to its total stake, less at
    /// most one wei of rounding per delegator.
    function invariantDelegatorStakesSumToTotal() public view {
        address[] memory actors = handler.actors();
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
            assertLe(total - sum, holders, "rounding dust above one wei per delegator");
        }
    }

    /// @dev The TicketBroker's balance covers every deposit, reserve and fee it holds; funds
    /// left = funded - paid - withdrawn (so deposits and reserves never went below zero), and
    /// the fees owed to delegators never exceed the fees held.
    function invariantTicketBrokerSolvent() public view {
        uint256 funds;
        for (uint256 i = 0; i < handler.SENDERS(); ++i) {
            TicketBroker.SenderInfo memory info = s.broker.getSenderInfo(handler.senders(i));
            funds += info.deposit + info.reserve;
        }
        assertEq(
            funds,
            handler.ghostFunded() - handler.ghostPaidToRecipients() - handler.ghostWithdrawnBySenders(),
            "deposits + reserves != funded - paid - withdrawn"
        );
        uint256 feesHeld = handler.ghostPaidToRecipients() - handler.ghostFeesWithdrawn();
        assertEq(s.token.balanceOf(address(s.broker)), funds + feesHeld, "TicketBroker balance != funds + fees held");

        address[] memory actors = handler.actors();
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
        assertEq(handler.ghostReplaysAccepted(), 0, "a redeemed ticket was accepted again");
    }

    /// @dev Every per-call expectation in the handler held, and no valid call reverted.
    function invariantHandlerSawNoViolation() public view {
        assertEq(handler.violations(), 0, handler.violation());
    }
}
