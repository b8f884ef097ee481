// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IBondingManager} from "../interfaces/IBondingManager.sol";

/**
 * @title OrchestratorRegistry
 * @notice Where orchestrators publish how to reach them (libp2p peer id, multiaddrs and a
 * metadata string, e.g. JSON with prices and capabilities), so a broadcaster can bootstrap
 * discovery from the chain alone. Strings rather than bytes: peer ids and multiaddrs have
 * canonical text forms that every libp2p implementation parses.
 *
 * Only orchestrators in the current active set may publish, each only for itself: a seat needs
 * real stake, so the listing cannot be spammed for free. A peer id is not owned on chain (the
 * chain cannot check a libp2p key): each entry carries `peerIdSignature`, the peer key's
 * signature over {peerIdClaimDigest}(orchestrator), which binds the claim to that address, this
 * chain and this registry. Nodes trust an entry's peer id only when that signature verifies
 * against the key the peer id names, so claiming someone else's peer id gains nothing and
 * blocks nobody. Lengths are capped so that reading the whole registry stays cheap for eth_call.
 */
contract OrchestratorRegistry {
    /// @notice Longest peer id accepted; base58 Ed25519/secp256k1 ids are about 52 characters.
    uint256 public constant MAX_PEER_ID_LENGTH = 128;
    /// @notice Most multiaddrs per orchestrator (e.g. IPv4, IPv6, DNS, TCP and WebSocket variants).
    uint256 public constant MAX_MULTIADDRS = 8;
    /// @notice Longest multiaddr accepted (a DNS name plus transports fits easily).
    uint256 public constant MAX_MULTIADDR_LENGTH = 256;
    /// @notice Longest metadata string accepted.
    uint256 public constant MAX_METADATA_LENGTH = 1024;
    /// @notice Longest peer-key signature accepted (Ed25519: 64 bytes; DER secp256k1: up to 72).
    uint256 public constant MAX_PEER_ID_SIGNATURE_LENGTH = 128;

    bytes32 private constant _PEER_ID_CLAIM_TYPEHASH =
        keccak256("SegmintPeerIdClaim(address orchestrator,uint256 chainId,address registry)");

    /// @notice An orchestrator's published service information.
    struct ServiceInfo {
        string peerId;
        string[] multiaddrs;
        string metadata;
        /// The peer key's signature over peerIdClaimDigest(orchestrator).
        bytes peerIdSignature;
        uint256 updatedAtBlock;
    }

    IBondingManager private immutable _bondingManager;
    mapping(address orchestrator => ServiceInfo) private _info;
    address[] private _listed;
    mapping(address orchestrator => uint256) private _listedIndex; // 1-based; 0 = not listed

    /// @notice `orchestrator` published or replaced its service information.
    event ServiceInfoUpdated(
        address indexed orchestrator, string peerId, string[] multiaddrs, string metadata, bytes peerIdSignature
    );
    /// @notice `orchestrator` removed its service information.
    event ServiceInfoCleared(address indexed orchestrator);

    /// @notice The BondingManager address was zero.
    error OrchestratorRegistryInvalidAddress();
    /// @notice `account` is not in the current active set.
    error OrchestratorRegistryNotActive(address account);
    /// @notice The peer id is empty or longer than `max` bytes.
    error OrchestratorRegistryInvalidPeerId(uint256 length, uint256 max);
    /// @notice `count` multiaddrs given; 1 to `max` are accepted.
    error OrchestratorRegistryInvalidMultiaddrCount(uint256 count, uint256 max);
    /// @notice Multiaddr `index` is empty or longer than `max` bytes.
    error OrchestratorRegistryInvalidMultiaddr(uint256 index, uint256 length, uint256 max);
    /// @notice The metadata is longer than `max` bytes.
    error OrchestratorRegistryMetadataTooLong(uint256 length, uint256 max);
    /// @notice The peer-key signature is empty or longer than `max` bytes.
    error OrchestratorRegistryInvalidPeerIdSignature(uint256 length, uint256 max);
    /// @notice `orchestrator` has published nothing.
    error OrchestratorRegistryNotListed(address orchestrator);
    /// @notice Index `index` is past the `count` listed orchestrators.
    error OrchestratorRegistryIndexOutOfBounds(uint256 index, uint256 count);

    constructor(IBondingManager bondingManager_) {
        if (address(bondingManager_) == address(0)) revert OrchestratorRegistryInvalidAddress();
        _bondingManager = bondingManager_;
    }

    /**
     * @notice Publishes or replaces the caller's service information.
     * @param peerIdSignature The libp2p key of `peerId` signing peerIdClaimDigest(caller); the
     * contract stores it, nodes verify it.
     * Requirements:
     * - the caller is in the current round's active set;
     * - `peerId` is 1..MAX_PEER_ID_LENGTH bytes;
     * - 1..MAX_MULTIADDRS multiaddrs, each 1..MAX_MULTIADDR_LENGTH bytes;
     * - `metadata` is at most MAX_METADATA_LENGTH bytes;
     * - `peerIdSignature` is 1..MAX_PEER_ID_SIGNATURE_LENGTH bytes.
     */
    function setServiceInfo(
        string calldata peerId,
        string[] calldata multiaddrs,
        string calldata metadata,
        bytes calldata peerIdSignature
    ) external {
        (bool active,) = _bondingManager.activeStatus(msg.sender);
        if (!active) revert OrchestratorRegistryNotActive(msg.sender);
        _checkLengths(peerId, multiaddrs, metadata, peerIdSignature);

        ServiceInfo storage info = _info[msg.sender];
        if (_listedIndex[msg.sender] == 0) {
            _listed.push(msg.sender);
            _listedIndex[msg.sender] = _listed.length;
        }
        info.peerId = peerId;
        // Element by element: the legacy code generator cannot copy string[] calldata to storage.
        string[] storage stored = info.multiaddrs;
        uint256 oldCount = stored.length;
        for (uint256 i = 0; i < multiaddrs.length; ++i) {
            if (i < oldCount) stored[i] = multiaddrs[i];
            else stored.push(multiaddrs[i]);
        }
        for (uint256 i = multiaddrs.length; i < oldCount; ++i) {
            stored.pop();
        }
        info.metadata = metadata;
        info.peerIdSignature = peerIdSignature;
        info.updatedAtBlock = block.number;
        emit ServiceInfoUpdated(msg.sender, peerId, multiaddrs, metadata, peerIdSignature);
    }

    /**
     * @notice Removes the caller's service information.
     * Requirements:
     * - the caller has published service information.
     */
    function clearServiceInfo() external {
        uint256 index = _listedIndex[msg.sender];
        if (index == 0) revert OrchestratorRegistryNotListed(msg.sender);
        uint256 last = _listed.length;
        if (index != last) {
            address moved = _listed[last - 1];
            _listed[index - 1] = moved;
            _listedIndex[moved] = index;
        }
        _listed.pop();
        delete _listedIndex[msg.sender];
        delete _info[msg.sender];
        emit ServiceInfoCleared(msg.sender);
    }

    /// @notice The BondingManager consulted for the active set.
    function bondingManager() external view returns (address) {
        return address(_bondingManager);
    }

    /// @notice `orchestrator`'s service information (empty, block 0, when none).
    function serviceInfo(address orchestrator) external view returns (ServiceInfo memory) {
        return _info[orchestrator];
    }

    /**
     * @notice What a peer key signs to prove that `orchestrator` may name it:
     * keccak256(abi.encode(keccak256("SegmintPeerIdClaim(address orchestrator,uint256 chainId,address registry)"),
     * orchestrator, chain id, this registry)).
     */
    function peerIdClaimDigest(address orchestrator) external view returns (bytes32) {
        return keccak256(abi.encode(_PEER_ID_CLAIM_TYPEHASH, orchestrator, block.chainid, address(this)));
    }

    /// @notice How many orchestrators have published service information.
    function listedCount() external view returns (uint256) {
        return _listed.length;
    }

    /// @notice The `index`-th listed orchestrator (order changes when one clears its entry).
    function listedAt(uint256 index) external view returns (address) {
        uint256 count = _listed.length;
        if (index >= count) revert OrchestratorRegistryIndexOutOfBounds(index, count);
        return _listed[index];
    }

    /// @notice Up to `limit` listed orchestrators from `offset` on (fewer at the end).
    function listed(uint256 offset, uint256 limit) external view returns (address[] memory page) {
        uint256 count = _listed.length;
        if (offset >= count) return new address[](0);
        uint256 end = count - offset < limit ? count : offset + limit;
        page = new address[](end - offset);
        for (uint256 i = offset; i < end; ++i) {
            page[i - offset] = _listed[i];
        }
    }

    function _checkLengths(
        string calldata peerId,
        string[] calldata multiaddrs,
        string calldata metadata,
        bytes calldata peerIdSignature
    ) private pure {
        uint256 peerIdLength = bytes(peerId).length;
        if (peerIdLength == 0 || peerIdLength > MAX_PEER_ID_LENGTH) {
            revert OrchestratorRegistryInvalidPeerId(peerIdLength, MAX_PEER_ID_LENGTH);
        }
        uint256 count = multiaddrs.length;
        if (count == 0 || count > MAX_MULTIADDRS) revert OrchestratorRegistryInvalidMultiaddrCount(count, MAX_MULTIADDRS);
        for (uint256 i = 0; i < count; ++i) {
            uint256 length = bytes(multiaddrs[i]).length;
            if (length == 0 || length > MAX_MULTIADDR_LENGTH) {
                revert OrchestratorRegistryInvalidMultiaddr(i, length, MAX_MULTIADDR_LENGTH);
            }
        }
        uint256 metadataLength = bytes(metadata).length;
        if (metadataLength > MAX_METADATA_LENGTH) {
            revert OrchestratorRegistryMetadataTooLong(metadataLength, MAX_METADATA_LENGTH);
        }
        uint256 signatureLength = peerIdSignature.length;
        if (signatureLength == 0 || signatureLength > MAX_PEER_ID_SIGNATURE_LENGTH) {
            revert OrchestratorRegistryInvalidPeerIdSignature(signatureLength, MAX_PEER_ID_SIGNATURE_LENGTH);
        }
    }
}
