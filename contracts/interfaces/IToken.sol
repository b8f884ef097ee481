// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title The Segmint token as the Minter sees it.
interface IToken is IERC20 {
    /// @notice Mints new tokens; only the Minter may call it.
    function mint(address to, uint256 amount) external;
}
