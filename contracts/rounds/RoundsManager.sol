// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IRoundsManager} from "../interfaces/IRoundsManager.sol";

/**
 * @title RoundsManager
 * @notice Rounds of `roundLength` blocks. Initialization is lazy: the first call that needs a
 * round's block hash (reward(), or anyone calling initializeRound()) stores it; no keeper is
 * needed, and tickets do not depend on it (they may name a round nobody initialized). Round numbers are `block.number / roundLength` until the owner changes the length.
 * A new length applies from the start of the next round, so the current round keeps its number,
 * start and end, and round numbers never jump or go back.
 */
contract RoundsManager is IRoundsManager, Ownable2Step {
    using SafeCast for uint256;

    /// @dev One slot, so the hot path (current round) costs one SLOAD. Rounds from
    /// `anchorRound` on start at `anchorBlock + k * roundLength`; while a length change is
    /// pending (block.number < anchorBlock), the current round is `anchorRound - 1`, which
    /// started at `anchorBlock - previousLength`.
    struct Clock {
        uint32 roundLength;
        uint32 previousLength;
        uint64 anchorRound;
        uint64 anchorBlock;
        uint64 lastInitializedRound;
    }

    Clock private _clock;
    mapping(uint256 round => bytes32 blockHash) private _blockHashes;

    /// @notice `round` was initialized with `blockHash`.
    event RoundInitialized(uint256 indexed round, bytes32 blockHash);
    /// @notice From `round` on, rounds are `roundLength` blocks long.
    event RoundLengthUpdated(uint256 indexed round, uint256 roundLength);

    /// @notice A round length must be between 1 and 2^32 - 1 blocks.
    error RoundsManagerInvalidRoundLength(uint256 roundLength);

    /// @param roundLength_ Blocks per round.
    constructor(address initialOwner, uint256 roundLength_) Ownable(initialOwner) {
        _checkRoundLength(roundLength_);
        uint256 round = block.number / roundLength_;
        _clock = Clock({
            roundLength: uint32(roundLength_),
            previousLength: uint32(roundLength_),
            anchorRound: round.toUint64(),
            anchorBlock: (round * roundLength_).toUint64(),
            lastInitializedRound: round.toUint64()
        });
        // The deployment round is initialized here so `lastInitializedRound` is always meaningful.
        bytes32 hash = _roundBlockHash(round * roundLength_);
        _blockHashes[round] = hash;
        emit RoundInitialized(round, hash);
    }

    /// @notice Blocks per round (from the next round on, when a change is pending).
    function roundLength() external view returns (uint256) {
        return _clock.roundLength;
    }

    /// @inheritdoc IRoundsManager
    function currentRound() public view returns (uint256) {
        Clock memory c = _clock;
        return _roundAt(c);
    }

    /// @notice The block at which the current round started.
    function currentRoundStartBlock() public view returns (uint256) {
        Clock memory c = _clock;
        return _startOf(c, _roundAt(c));
    }

    /// @notice Whether the current round has been initialized.
    function currentRoundInitialized() external view returns (bool) {
        Clock memory c = _clock;
        return c.lastInitializedRound == _roundAt(c);
    }

    /// @notice The most recent initialized round. (Tickets need none: they name the current
    /// round, with its stored block hash or zero.)
    function lastInitializedRound() external view returns (uint256) {
        return _clock.lastInitializedRound;
    }

    /// @notice The block hash stored for `round`; zero when `round` was never initialized.
    function blockHashForRound(uint256 round) external view returns (bytes32) {
        return _blockHashes[round];
    }

    /// @inheritdoc IRoundsManager
    function currentRoundAndBlockHash(uint256 round) external view returns (uint256 current, bytes32 blockHash) {
        Clock memory c = _clock;
        return (_roundAt(c), _blockHashes[round]);
    }

    /**
     * @inheritdoc IRoundsManager
     * @dev Idempotent. Stores blockhash(round start block) when it is still available (within
     * 256 blocks and not the current block), else the previous block's hash.
     */
    function initializeRound() external returns (uint256 round) {
        Clock memory c = _clock;
        round = _roundAt(c);
        if (c.lastInitializedRound == round) return round;
        bytes32 hash = _roundBlockHash(_startOf(c, round));
        _clock.lastInitializedRound = round.toUint64();
        _blockHashes[round] = hash;
        emit RoundInitialized(round, hash);
    }

    /**
     * @notice Sets the round length from the start of the next round on; the current round
     * keeps its number, start and length.
     * Requirements:
     * - the caller is the owner;
     * - `newRoundLength` is between 1 and 2^32 - 1.
     */
    function setRoundLength(uint256 newRoundLength) external onlyOwner {
        _checkRoundLength(newRoundLength);
        Clock memory c = _clock;
        uint256 round = _roundAt(c);
        uint256 length = round < c.anchorRound ? c.previousLength : c.roundLength;
        uint256 nextStart = _startOf(c, round) + length;
        c.previousLength = uint32(length);
        c.anchorRound = (round + 1).toUint64();
        c.anchorBlock = nextStart.toUint64();
        // Checked above to fit in 32 bits.
        c.roundLength = uint32(newRoundLength);
        _clock = c;
        emit RoundLengthUpdated(round + 1, newRoundLength);
    }

    function _roundAt(Clock memory c) private view returns (uint256) {
        // Before the anchor only while a length change waits for the current round to end;
        // anchorRound is then at least 1.
        if (block.number < c.anchorBlock) return c.anchorRound - 1;
        return c.anchorRound + (block.number - c.anchorBlock) / c.roundLength;
    }

    function _startOf(Clock memory c, uint256 round) private pure returns (uint256) {
        if (round < c.anchorRound) return c.anchorBlock - c.previousLength;
        return c.anchorBlock + (round - c.anchorRound) * c.roundLength;
    }

    function _roundBlockHash(uint256 startBlock) private view returns (bytes32 hash) {
        hash = blockhash(startBlock);
        // The start block's hash is unavailable when it is the current block or older than 256
        // blocks; the previous block's hash is then the freshest one the EVM offers.
        if (hash == bytes32(0) && block.number > 0) hash = blockhash(block.number - 1);
    }

    function _checkRoundLength(uint256 length) private pure {
        if (length == 0 || length > type(uint32).max) revert RoundsManagerInvalidRoundLength(length);
    }
}
