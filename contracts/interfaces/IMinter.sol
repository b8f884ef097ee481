// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title The per-round inflation that BondingManager hands out through `reward()`.
interface IMinter {
    /// @notice Mints `numerator / denominator` of `round`'s inflation to the BondingManager.
    /// @return minted The amount minted (zero when the round's inflation is used up).
    function mintReward(uint256 round, uint256 numerator, uint256 denominator) external returns (uint256 minted);
}
