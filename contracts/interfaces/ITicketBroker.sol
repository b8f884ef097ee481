// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title What the BondingManager needs from the TicketBroker, and the ticket type.
interface ITicketBroker {
    /// @notice A probabilistic micropayment ticket, signed by `sender` as EIP-712 typed data
    /// (domain "Segmint", version "1", this chain, the TicketBroker as verifying contract).
    struct Ticket {
        address recipient;
        address sender;
        uint256 faceValue;
        uint256 winProb;
        uint256 senderNonce;
        bytes32 recipientRandHash;
        uint256 creationRound;
        bytes32 creationRoundBlockHash;
    }

    /// @notice Rounds between unlock() and the earliest withdraw().
    function unlockPeriod() external view returns (uint256);

    /// @notice Pays out fees that the TicketBroker holds for the BondingManager.
    function transferFees(address to, uint256 amount) external;
}
