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
 * needed. Round numbers are `block.number / roundLength` until the owner changes the length;
 * from then on they count from the round in which the change happened, so they never jump.
 */
contract RoundsManager is IRoundsManager, Ownable2Step {
    using SafeCast for uint256;

    /// @dev One slot, so the hot path (current round) costs one SLOAD.
    struct Clock {
        uint64 roundLength;
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

    /// @notice A round length must be between 1 and 2^32 blocks.
    error RoundsManagerInvalidRoundLength(uint256 roundLength);

    /// @param roundLength_ Blocks per round.
    constructor(address initialOwner, uint256 roundLength_) Ownable(initialOwner) {
        _checkRoundLength(roundLength_);
        uint256 round = block.number / roundLength_;
        _clock = Clock({
            roundLength: uint64(roundLength_),
            anchorRound: round.toUint64(),
            anchorBlock: (round * roundLength_).toUint64(),
            lastInitializedRound: round.toUint64()
        });
        // The deployment round is initialized here so `lastInitializedRound` is always meaningful.
        bytes32 hash = _roundBlockHash(round * roundLength_);
        _blockHashes[round] = hash;
        emit RoundInitialized(round, hash);
    }

    /// @notice Blocks per round.
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
        return c.anchorBlock + (_roundAt(c) - c.anchorRound) * c.roundLength;
    }

    /// @notice Whether the current round has been initialized.
    function currentRoundInitialized() external view returns (bool) {
        Clock memory c = _clock;
        return c.lastInitializedRound == _roundAt(c);
    }

    /// @notice The most recent initialized round: tickets use it as their creation round.
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
        uint256 startBlock = c.anchorBlock + (round - c.anchorRound) * c.roundLength;
        bytes32 hash = _roundBlockHash(startBlock);
        _clock.lastInitializedRound = round.toUint64();
        _blockHashes[round] = hash;
        emit RoundInitialized(round, hash);
    }

    /**
     * @notice Sets the round length. The current round keeps its start block and number; it
     * and later rounds have the new length.
     * Requirements:
     * - the caller is the owner;
     * - `newRoundLength` is between 1 and 2^32.
     */
    function setRoundLength(uint256 newRoundLength) external onlyOwner {
        _checkRoundLength(newRoundLength);
        Clock memory c = _clock;
        uint256 round = _roundAt(c);
        c.anchorBlock = (c.anchorBlock + (round - c.anchorRound) * c.roundLength).toUint64();
        c.anchorRound = round.toUint64();
        c.roundLength = uint64(newRoundLength);
        _clock = c;
        emit RoundLengthUpdated(round, newRoundLength);
    }

    function _roundAt(Clock memory c) private view returns (uint256) {
        return c.anchorRound + (block.number - c.anchorBlock) / c.roundLength;
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
