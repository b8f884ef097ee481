// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title What TicketBroker and OrchestratorRegistry need from the BondingManager.
interface IBondingManager {
    /// @notice Credits `fees` (already held by the TicketBroker) to `orchestrator`'s fee pool.
    /// @return credited False, with no state change, when `orchestrator` is not registered.
    function updateOrchestratorWithFees(address orchestrator, uint256 fees) external returns (bool credited);

    /// @notice Whether `orchestrator` is active in the current round, and how many are.
    function activeStatus(address orchestrator) external view returns (bool active, uint256 activeCount);

    /// @notice Whether `orchestrator` is in `round`'s active set. Answers from its latest stay in
    /// the set: a round before an exit and re-entry reads as inactive.
    function isActiveInRound(address orchestrator, uint256 round) external view returns (bool);

    /// @notice Whether `account` has registered as an orchestrator.
    function isRegisteredOrchestrator(address account) external view returns (bool);
}
