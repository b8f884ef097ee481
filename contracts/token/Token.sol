// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {IToken} from "../interfaces/IToken.sol";

/**
 * @title Segmint Token (SGM)
 * @notice ERC-20 with ERC-2612 permit, used for stake, rewards and fees. Apart from the
 * initial allocation minted to the owner at construction, only the Minter can mint, and the
 * Minter is set once.
 */
contract Token is IToken, ERC20, ERC20Permit, Ownable2Step {
    address private _minter;

    /// @notice The Minter was set.
    event MinterSet(address indexed minter);

    /// @notice `caller` is not the Minter.
    error TokenUnauthorizedMinter(address caller);
    /// @notice The Minter is already set to `minter`.
    error TokenMinterAlreadySet(address minter);
    /// @notice The zero address cannot be the Minter.
    error TokenInvalidMinter(address minter);

    /**
     * @param initialOwner Owner, and receiver of the initial allocation.
     * @param initialSupply Tokens (wei) minted to `initialOwner`, so a dev chain can fund accounts.
     */
    constructor(address initialOwner, uint256 initialSupply)
        ERC20("Segmint Token", "SGM")
        ERC20Permit("Segmint Token")
        Ownable(initialOwner)
    {
        _mint(initialOwner, initialSupply);
    }

    /// @notice The Minter, or the zero address before it is set.
    function minter() external view returns (address) {
        return _minter;
    }

    /**
     * @notice Sets the Minter, the only account that can mint from then on.
     * Requirements:
     * - the caller is the owner;
     * - the Minter was not set before;
     * - `newMinter` is not the zero address.
     */
    function setMinter(address newMinter) external onlyOwner {
        if (_minter != address(0)) revert TokenMinterAlreadySet(_minter);
        if (newMinter == address(0)) revert TokenInvalidMinter(newMinter);
        _minter = newMinter;
        emit MinterSet(newMinter);
    }

    /**
     * @notice Mints `amount` to `to`.
     * Requirements:
     * - the caller is the Minter.
     */
    function mint(address to, uint256 amount) external {
        if (msg.sender != _minter) revert TokenUnauthorizedMinter(msg.sender);
        _mint(to, amount);
    }
}
