// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BondingManager} from "../../../contracts/bonding/BondingManager.sol";
import {IBondingManager} from "../../../contracts/interfaces/IBondingManager.sol";
import {IRoundsManager} from "../../../contracts/interfaces/IRoundsManager.sol";
import {ITicketBroker} from "../../../contracts/interfaces/ITicketBroker.sol";
import {IToken} from "../../../contracts/interfaces/IToken.sol";
import {TicketBroker} from "../../../contracts/payments/TicketBroker.sol";
import {OrchestratorRegistry} from "../../../contracts/registry/OrchestratorRegistry.sol";
import {RoundsManager} from "../../../contracts/rounds/RoundsManager.sol";
import {Minter} from "../../../contracts/token/Minter.sol";
import {Token} from "../../../contracts/token/Token.sol";
import {Vm} from "./Test.sol";

/// @title The Segmint contracts, deployed and wired as node/src/chain/deploy.ts does it.
struct Segmint {
    Token token;
    RoundsManager rounds;
    BondingManager bonding;
    Minter minter;
    TicketBroker broker;
    OrchestratorRegistry registry;
}

/// @title Deployment and ticket helpers shared by the fuzz and invariant suites.
/// @dev The parameters mirror test/contracts/helpers.ts TEST_PARAMS: short rounds and periods
/// so a test crosses them with a few vm.roll calls.
library Fixture {
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    uint256 internal constant TOKEN = 1e18;
    uint256 internal constant ROUND_LENGTH = 20;
    uint256 internal constant UNBONDING_PERIOD = 2;
    uint256 internal constant UNLOCK_PERIOD = 3;
    uint256 internal constant MAX_ACTIVE_SET_SIZE = 3;
    uint256 internal constant MIN_SELF_STAKE = 1 * TOKEN;
    uint256 internal constant INFLATION_PER_ROUND = 1_000 * TOKEN;
    uint256 internal constant TICKET_VALIDITY_ROUNDS = 2;
    uint256 internal constant INITIAL_SUPPLY = 10_000_000 * TOKEN;
    uint256 internal constant PPM = 1_000_000;

    /// @dev Deploys from the calling contract, which becomes owner and holds the initial supply.
    function deploy() internal returns (Segmint memory s) {
        address owner = address(this);
        s.token = new Token(owner, INITIAL_SUPPLY);
        s.rounds = new RoundsManager(owner, ROUND_LENGTH);
        s.bonding = new BondingManager(owner, s.token, s.rounds, UNBONDING_PERIOD, MAX_ACTIVE_SET_SIZE, MIN_SELF_STAKE);
        s.minter = new Minter(owner, IToken(address(s.token)), address(s.bonding), INFLATION_PER_ROUND);
        s.broker = new TicketBroker(
            owner, s.token, s.rounds, IBondingManager(address(s.bonding)), UNLOCK_PERIOD, TICKET_VALIDITY_ROUNDS
        );
        s.registry = new OrchestratorRegistry(IBondingManager(address(s.bonding)));
        s.token.setMinter(address(s.minter));
        s.bonding.setWiring(s.minter, ITicketBroker(address(s.broker)));
    }

    /// @dev Moves to the first block of the next round.
    function nextRound(Segmint memory s) internal {
        vm.roll(s.rounds.currentRoundStartBlock() + ROUND_LENGTH);
    }

    /// @dev Funds `account` from the caller's balance and approves both spenders for it.
    function fund(Segmint memory s, address account, uint256 amount) internal {
        s.token.transfer(account, amount);
        vm.startPrank(account);
        s.token.approve(address(s.bonding), type(uint256).max);
        s.token.approve(address(s.broker), type(uint256).max);
        vm.stopPrank();
    }

    /// @dev Registers `orchestrator` and self-bonds `amount` (already funded).
    function register(Segmint memory s, address orchestrator, uint256 rewardCut, uint256 feeShare, uint256 amount)
        internal
    {
        vm.startPrank(orchestrator);
        s.bonding.setOrchestratorParams(rewardCut, feeShare);
        if (amount != 0) s.bonding.bond(amount, orchestrator);
        vm.stopPrank();
    }

    /// @dev A ticket from `sender` to `recipient` created in the current round, naming its
    /// stored block hash (zero while the round is not initialized), as the node's senders do.
    /// `winProb` of type(uint256).max wins unless keccak(sig, rand) is exactly 2^256-1.
    function ticket(
        Segmint memory s,
        address sender,
        address recipient,
        uint256 faceValue,
        uint256 winProb,
        uint256 nonce,
        uint256 recipientRand
    ) internal view returns (ITicketBroker.Ticket memory t) {
        uint256 round = s.rounds.currentRound();
        t = ITicketBroker.Ticket({
            recipient: recipient,
            sender: sender,
            faceValue: faceValue,
            winProb: winProb,
            senderNonce: nonce,
            recipientRandHash: keccak256(abi.encode(recipientRand)),
            creationRound: round,
            creationRoundBlockHash: s.rounds.blockHashForRound(round)
        });
    }

    /// @dev The sender's 65-byte (r, s, v) signature of the ticket's EIP-712 digest.
    function sign(Segmint memory s, uint256 privateKey, ITicketBroker.Ticket memory t)
        internal
        view
        returns (bytes memory)
    {
        (uint8 v, bytes32 r, bytes32 sigS) = vm.sign(privateKey, s.broker.getTicketHash(t));
        return abi.encodePacked(r, sigS, v);
    }
}
