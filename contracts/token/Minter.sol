// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IMinter} from "../interfaces/IMinter.sol";
import {IToken} from "../interfaces/IToken.sol";

/**
 * @title Minter
 * @notice Mints the per-round inflation. Inflation is a fixed token amount per round
 * (`inflationPerRound`, owner-settable), not a fraction of supply: it is predictable for
 * operators and needs no supply read on the reward path. Each round's amount is fixed at the
 * round's first mint, so a parameter change mid-round applies from the next round on. Only the
 * BondingManager may mint, in shares of the round's amount that it computes from active stake.
 */
contract Minter is IMinter, Ownable2Step {
    using SafeCast for uint256;

    struct RoundMint {
        uint32 round;
        bool started;
        uint104 mintable;
        uint104 minted;
    }

    IToken private immutable _token;
    address private immutable _bondingManager;
    uint256 private _inflationPerRound;
    RoundMint private _roundMint;

    /// @notice The per-round inflation changed; it applies from the next round on.
    event InflationPerRoundUpdated(uint256 inflationPerRound);
    /// @notice `amount` of `round`'s inflation was minted to the BondingManager.
    event RewardMinted(uint256 indexed round, uint256 amount);

    /// @notice `caller` is not the BondingManager.
    error MinterUnauthorizedCaller(address caller);
    /// @notice A zero denominator was passed.
    error MinterInvalidFraction(uint256 numerator, uint256 denominator);
    /// @notice A constructor address was zero.
    error MinterInvalidAddress();

    constructor(address initialOwner, IToken token_, address bondingManager_, uint256 inflationPerRound_)
        Ownable(initialOwner)
    {
        if (address(token_) == address(0) || bondingManager_ == address(0)) revert MinterInvalidAddress();
        _token = token_;
        _bondingManager = bondingManager_;
        _setInflationPerRound(inflationPerRound_);
        // A nonzero (but not started) slot: the first reward() then pays for rewriting a used
        // slot instead of filling an empty one (about 17k gas less).
        _roundMint = RoundMint({round: type(uint32).max, started: false, mintable: 0, minted: 0});
    }

    /// @notice The token this contract mints.
    function token() external view returns (address) {
        return address(_token);
    }

    /// @notice The only account allowed to mint.
    function bondingManager() external view returns (address) {
        return _bondingManager;
    }

    /// @notice Tokens (wei) minted per round, shared among active orchestrators by stake.
    function inflationPerRound() external view returns (uint256) {
        return _inflationPerRound;
    }

    /// @notice What is left to mint in `round` (the full inflation when the round has not started minting).
    function mintableInRound(uint256 round) external view returns (uint256) {
        RoundMint memory rm = _roundMint;
        if (!rm.started || rm.round != round) return _inflationPerRound;
        return rm.mintable - rm.minted;
    }

    /**
     * @notice Sets the per-round inflation (token wei); takes effect from the next round that mints.
     * Requirements:
     * - the caller is the owner;
     * - `amount` fits in 104 bits.
     */
    function setInflationPerRound(uint256 amount) external onlyOwner {
        _setInflationPerRound(amount);
    }

    /**
     * @inheritdoc IMinter
     * @dev Requirements:
     * - the caller is the BondingManager;
     * - `denominator` is not zero.
     */
    function mintReward(uint256 round, uint256 numerator, uint256 denominator) external returns (uint256 minted) {
        if (msg.sender != _bondingManager) revert MinterUnauthorizedCaller(msg.sender);
        if (denominator == 0) revert MinterInvalidFraction(numerator, denominator);
        RoundMint memory rm = _roundMint;
        if (!rm.started || rm.round != round) {
            rm = RoundMint({round: round.toUint32(), started: true, mintable: uint104(_inflationPerRound), minted: 0});
        }
        minted = (uint256(rm.mintable) * numerator) / denominator;
        uint256 left = rm.mintable - rm.minted;
        if (minted > left) minted = left;
        // `minted <= left = mintable - minted_so_far`, so the sum stays <= mintable, a uint104.
        rm.minted += uint104(minted);
        _roundMint = rm;
        if (minted > 0) {
            emit RewardMinted(round, minted);
            _token.mint(_bondingManager, minted);
        }
    }

    function _setInflationPerRound(uint256 amount) private {
        _inflationPerRound = amount.toUint104();
        emit InflationPerRoundUpdated(amount);
    }
}
