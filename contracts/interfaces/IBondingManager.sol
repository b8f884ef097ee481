// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title What TicketBroker and OrchestratorRegistry need from the BondingManager.
interface IBondingManager {
    /// @notice Credits `fees` (already held by the TicketBroker) to `orchestrator`'s fee pool.
    /// @return credited False, with no state change, when `orchestrator` is not registered.
    function updateOrchestratorWithFees(address orchestrator, uint256 fees) external returns (bool credited);

    /// @notice Whether `orchestrator` is active in the current round, and how many are.
    function activeStatus(address orchestrator) external view returns (bool active, uint256 activeCount);

    /// @notice Whether `orchestrator` is active in `round`, as its latest activation records it:
    /// exact for rounds from its latest activation on (the current round, the next one, and any
    /// earlier round it stayed active through); false for rounds before that activation.
    function isActiveInRound(address orchestrator, uint256 round) external view returns (bool);

    /// @notice Fees settled from now on wait `rounds` rounds before they can be withdrawn; the
    /// TicketBroker calls it whenever its unlock period changes.
    function setFeeLockRounds(uint256 rounds) external;

    /// @notice Whether `account` has registered as an orchestrator.
    function isRegisteredOrchestrator(address account) external view returns (bool);
}
