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

    /// @dev One slot, so reward() reads one: the round minting now, the inflation in force and
    /// what was minted of it; a new value set by the owner waits in `_nextInflation` until the
    /// next round starts minting.
    struct RoundMint {
        uint32 round;
        bool started;
        bool changePending;
        uint104 inflation;
        uint104 minted;
    }

    IToken private immutable _token;
    address private immutable _bondingManager;
    RoundMint private _roundMint;
    uint104 private _nextInflation;

    /// @notice The per-round inflation changed; it applies from the next round on.
    event InflationPerRoundUpdated(uint256 inflationPerRound);

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
        // A nonzero (but not started) slot: the first reward() then pays for rewriting a used
        // slot instead of filling an empty one (about 17k gas less).
        _roundMint = RoundMint({
            round: type(uint32).max,
            started: false,
            changePending: false,
            inflation: inflationPerRound_.toUint104(),
            minted: 0
        });
        emit InflationPerRoundUpdated(inflationPerRound_);
    }

    /// @notice The token this contract mints.
    function token() external view returns (address) {
        return address(_token);
    }

    /// @notice The only account allowed to mint.
    function bondingManager() external view returns (address) {
        return _bondingManager;
    }

    /// @notice Tokens (wei) minted per round from the next round that starts minting, shared
    /// among active orchestrators by stake.
    function inflationPerRound() public view returns (uint256) {
        RoundMint memory rm = _roundMint;
        return rm.changePending ? _nextInflation : rm.inflation;
    }

    /// @notice What is left to mint in `round` (the full inflation when the round has not started minting).
    function mintableInRound(uint256 round) external view returns (uint256) {
        RoundMint memory rm = _roundMint;
        if (!rm.started || rm.round != round) return inflationPerRound();
        return rm.inflation - rm.minted;
    }

    /**
     * @notice Sets the per-round inflation (token wei); takes effect from the next round that mints.
     * Requirements:
     * - the caller is the owner;
     * - `amount` fits in 104 bits.
     */
    function setInflationPerRound(uint256 amount) external onlyOwner {
        _nextInflation = amount.toUint104();
        _roundMint.changePending = true;
        emit InflationPerRoundUpdated(amount);
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
            // The round's amount is fixed here, at its first mint.
            uint104 inflation = rm.changePending ? _nextInflation : rm.inflation;
            rm = RoundMint({round: round.toUint32(), started: true, changePending: false, inflation: inflation, minted: 0});
        }
        minted = (uint256(rm.inflation) * numerator) / denominator;
        uint256 left = rm.inflation - rm.minted;
        if (minted > left) minted = left;
        // `minted <= left = inflation - minted_so_far`, so the sum stays <= inflation, a uint104.
        rm.minted += uint104(minted);
        _roundMint = rm;
        // No event of its own: the BondingManager's Rewarded and the token's mint Transfer say it.
        if (minted > 0) _token.mint(_bondingManager, minted);
    }
}
