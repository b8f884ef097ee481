// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IBondingManager} from "../../../contracts/interfaces/IBondingManager.sol";
import {OrchestratorRegistry} from "../../../contracts/registry/OrchestratorRegistry.sol";
import {Fixture, Segmint} from "../utils/Fixture.sol";
import {Test} from "../utils/Test.sol";

/// @title OrchestratorRegistry: publication rules (active orchestrators only), peer-id claims
/// that nobody can block, listing, and a fuzzed length check against the caps.
contract OrchestratorRegistryTest is Test {
    Segmint internal s;
    address internal alice = address(0x0A11CE);
    address internal bob = address(0x0B0B);
    address internal stranger = address(0x5757);
    bytes internal constant SIG = hex"5151515151515151515151515151515151515151515151515151515151515151";

    function setUp() public {
        s = Fixture.deploy();
        Fixture.fund(s, alice, 1_000 * Fixture.TOKEN);
        Fixture.fund(s, bob, 1_000 * Fixture.TOKEN);
        Fixture.register(s, alice, 0, 0, 1_000 * Fixture.TOKEN);
        Fixture.register(s, bob, 0, 0, 1_000 * Fixture.TOKEN);
        // Seats count from the next round on.
        Fixture.nextRound(s);
    }

    function testConstructorRejectsZeroBondingManager() public {
        vm.expectRevert(OrchestratorRegistry.OrchestratorRegistryInvalidAddress.selector);
        new OrchestratorRegistry(IBondingManager(address(0)));
        assertEq(s.registry.bondingManager(), address(s.bonding), "bondingManager()");
    }

    function testPublishReplaceAndClear() public {
        _publish(alice, "peerA", 3, "meta");
        OrchestratorRegistry.ServiceInfo memory info = s.registry.serviceInfo(alice);
        assertEq(keccak256(bytes(info.peerId)), keccak256("peerA"), "peer id");
        assertEq(info.multiaddrs.length, 3, "multiaddrs");
        assertEq(keccak256(info.peerIdSignature), keccak256(SIG), "peer id signature");
        assertEq(info.updatedAtBlock, block.number, "updated block");

        // Same peer id, fewer multiaddrs: the stored array shrinks.
        _publish(alice, "peerA", 1, "");
        assertEq(s.registry.serviceInfo(alice).multiaddrs.length, 1, "shrunk multiaddrs");
        // More again: it grows.
        _publish(alice, "peerA", 4, "m");
        assertEq(s.registry.serviceInfo(alice).multiaddrs.length, 4, "grown multiaddrs");
        _publish(alice, "peerA2", 1, "");
        assertEq(keccak256(bytes(s.registry.serviceInfo(alice).peerId)), keccak256("peerA2"), "new peer id");
        assertEq(s.registry.listedCount(), 1, "listed once");

        vm.prank(alice);
        s.registry.clearServiceInfo();
        assertEq(s.registry.listedCount(), 0, "still listed");
        assertEq(bytes(s.registry.serviceInfo(alice).peerId).length, 0, "info not deleted");
        assertEq(s.registry.serviceInfo(alice).peerIdSignature.length, 0, "signature not deleted");
        vm.expectRevert(abi.encodeWithSelector(OrchestratorRegistry.OrchestratorRegistryNotListed.selector, alice));
        vm.prank(alice);
        s.registry.clearServiceInfo();
    }

    /// @dev Peer-id squatting: a squatter that publishes the real owner's peer id first no
    /// longer blocks the owner, whose entry (with the peer key's proof) is accepted as well;
    /// nodes tell the two apart by the proof.
    function testSquatterCannotBlockPeerIdOwner() public {
        _publish(bob, "alicesPeer", 1, "");
        _publish(alice, "alicesPeer", 1, "");
        assertEq(keccak256(bytes(s.registry.serviceInfo(alice).peerId)), keccak256("alicesPeer"), "owner blocked");
        assertEq(s.registry.listedCount(), 2, "both listed");
    }

    /// @dev The claim digest binds the address, the chain and this registry.
    function testPeerIdClaimDigest() public {
        bytes32 typehash = keccak256("SegmintPeerIdClaim(address orchestrator,uint256 chainId,address registry)");
        assertEq(
            s.registry.peerIdClaimDigest(alice),
            keccak256(abi.encode(typehash, alice, block.chainid, address(s.registry))),
            "digest"
        );
        assertTrue(s.registry.peerIdClaimDigest(alice) != s.registry.peerIdClaimDigest(bob), "same digest for two addresses");
        OrchestratorRegistry other = new OrchestratorRegistry(IBondingManager(address(s.bonding)));
        assertTrue(other.peerIdClaimDigest(alice) != s.registry.peerIdClaimDigest(alice), "same digest for two registries");
    }

    /// @dev The listing cannot be spammed for free: registered orchestrators without a seat
    /// (no stake, or seated only from next round) and strangers are refused.
    function testOnlyActiveOrchestrators() public {
        string[] memory addrs = _addrs(1);
        vm.prank(stranger);
        s.bonding.setOrchestratorParams(0, 0);
        vm.expectRevert(abi.encodeWithSelector(OrchestratorRegistry.OrchestratorRegistryNotActive.selector, stranger));
        vm.prank(stranger);
        s.registry.setServiceInfo("p", addrs, "", SIG);

        address late = address(0x1A7E);
        Fixture.fund(s, late, 1_000 * Fixture.TOKEN);
        Fixture.register(s, late, 0, 0, 1_000 * Fixture.TOKEN);
        vm.expectRevert(abi.encodeWithSelector(OrchestratorRegistry.OrchestratorRegistryNotActive.selector, late));
        vm.prank(late);
        s.registry.setServiceInfo("p", addrs, "", SIG);
        Fixture.nextRound(s);
        _publish(late, "p", 1, "");
        assertEq(s.registry.listedCount(), 1, "seated orchestrator not listed");
    }

    function testListingAndClearingMovesTheLast() public {
        _publish(alice, "a", 1, "");
        _publish(bob, "b", 1, "");
        assertEq(s.registry.listedAt(0), alice, "listedAt(0)");
        assertEq(s.registry.listedAt(1), bob, "listedAt(1)");
        address[] memory page = s.registry.listed(0, 10);
        assertEq(page.length, 2, "page length");
        page = s.registry.listed(1, 1);
        assertEq(page.length, 1, "offset page length");
        assertEq(page[0], bob, "offset page");
        assertEq(s.registry.listed(5, 1).length, 0, "past the end");
        vm.expectRevert(abi.encodeWithSelector(OrchestratorRegistry.OrchestratorRegistryIndexOutOfBounds.selector, 2, 2));
        s.registry.listedAt(2);

        // Clearing the first moves the last into its place.
        vm.prank(alice);
        s.registry.clearServiceInfo();
        assertEq(s.registry.listedAt(0), bob, "last not moved");
        _publish(alice, "a", 1, "");
        assertEq(s.registry.listedAt(1), alice, "relisted at the end");
    }

    /// @dev Every length limit: peer id 1..128, 1..8 multiaddrs of 1..256, metadata <= 1024,
    /// signature 1..128.
    function testFuzzLengthLimits(
        uint256 peerIdLength,
        uint256 count,
        uint256 addrLength,
        uint256 metadataLength,
        uint256 signatureLength
    ) public {
        peerIdLength = bound(peerIdLength, 0, 140);
        count = bound(count, 0, 10);
        addrLength = bound(addrLength, 0, 270);
        metadataLength = bound(metadataLength, 0, 1100);
        signatureLength = bound(signatureLength, 0, 140);
        string[] memory addrs = new string[](count);
        for (uint256 i = 0; i < count; ++i) {
            // Only the last multiaddr takes the fuzzed length.
            addrs[i] = i + 1 == count ? string(new bytes(addrLength)) : "/ip4/127.0.0.1/tcp/1";
        }
        string memory peerId = string(new bytes(peerIdLength));
        string memory metadata = string(new bytes(metadataLength));
        if (peerIdLength == 0 || peerIdLength > 128) {
            vm.expectRevert(
                abi.encodeWithSelector(OrchestratorRegistry.OrchestratorRegistryInvalidPeerId.selector, peerIdLength, 128)
            );
        } else if (count == 0 || count > 8) {
            vm.expectRevert(
                abi.encodeWithSelector(OrchestratorRegistry.OrchestratorRegistryInvalidMultiaddrCount.selector, count, 8)
            );
        } else if (addrLength == 0 || addrLength > 256) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    OrchestratorRegistry.OrchestratorRegistryInvalidMultiaddr.selector, count - 1, addrLength, 256
                )
            );
        } else if (metadataLength > 1024) {
            vm.expectRevert(
                abi.encodeWithSelector(OrchestratorRegistry.OrchestratorRegistryMetadataTooLong.selector, metadataLength, 1024)
            );
        } else if (signatureLength == 0 || signatureLength > 128) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    OrchestratorRegistry.OrchestratorRegistryInvalidPeerIdSignature.selector, signatureLength, 128
                )
            );
        }
        vm.prank(alice);
        s.registry.setServiceInfo(peerId, addrs, metadata, new bytes(signatureLength));
    }

    function _publish(address who, string memory peerId, uint256 count, string memory metadata) private {
        string[] memory addrs = _addrs(count);
        vm.prank(who);
        s.registry.setServiceInfo(peerId, addrs, metadata, SIG);
    }

    function _addrs(uint256 count) private pure returns (string[] memory addrs) {
        addrs = new string[](count);
        for (uint256 i = 0; i < count; ++i) {
            addrs[i] = string.concat("/ip4/10.0.0.", vm.toString(i), "/tcp/4001");
        }
    }
}
