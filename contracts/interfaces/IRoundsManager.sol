// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title The round clock that BondingManager, Minter and TicketBroker read.
interface IRoundsManager {
    /// @notice The current round number; a round is `roundLength()` blocks.
    function currentRound() external view returns (uint256);

    /// @notice Initializes the current round if nobody has yet, and returns its number.
    function initializeRound() external returns (uint256 round);

    /// @notice The current round and the stored block hash of `round` (zero when `round` was
    /// never initialized), in one call so the ticket redemption path pays for one external call.
    function currentRoundAndBlockHash(uint256 round) external view returns (uint256 current, bytes32 blockHash);
}
