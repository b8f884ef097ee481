/**
 * The p2p subsystem: the libp2p host, discovery (chain registry, adverts, bootstrap, mDNS)
 * and the versioned protocols /segmint/info/1.0.0 and /segmint/transcode/1.0.0.
 * docs/protocol.md describes the wire format for other implementations.
 */

export { type AddressFlag, toMultiaddr, toMultiaddrs } from "./addresses.ts";
export {
  AdvertBook,
  AdvertPublisher,
  type AdvertRejection,
  type AdvertVerdict,
} from "./adverts.ts";
export { type P2pConfig, p2pConfigSchema, p2pOptionsFromConfig } from "./config.ts";
export { ADVERT_TOPIC, INFO_PROTOCOL, SIGNING_DOMAIN, TRANSCODE_PROTOCOL } from "./constants.ts";
export {
  type DiscoveredCandidate,
  Discovery,
  type DiscoveryNode,
  parseBootstrap,
} from "./discovery.ts";
export {
  isP2pError,
  P2pError,
  type P2pErrorCode,
  RemoteError,
  WIRE_ERROR_CODES,
  type WireErrorCode,
} from "./errors.ts";
export { createHost, type SegmintNode, type SegmintServices } from "./host.ts";
export { InfoProtocol, requestInfo, verifyInfo } from "./info.ts";
export type * from "./interface.ts";
export { createP2pMetrics, type P2pMetrics } from "./metrics.ts";
export {
  BroadcasterNetwork,
  type BroadcasterNetworkInit,
  OrchestratorNetwork,
  type OrchestratorNetworkInit,
} from "./network.ts";
export * from "./options.ts";
export { peerIdClaimDigest, signPeerIdClaim, verifyPeerIdClaim } from "./peer-claim.ts";
export { loadOrCreatePeerKey, peerIdOfDataDir } from "./peer-key.ts";
export { ChainRegistryReader } from "./registry-reader.ts";
export { canonicalJson, type EthSigner, recoverSigner, signPayload } from "./signing.ts";
export { Slots } from "./slots.ts";
export {
  type ReceivedRendition,
  receiptSigner,
  requestTranscode,
  type TranscodeResponse,
} from "./transcode-client.ts";
export { TranscodeProtocol, type TranscodeStats } from "./transcode-server.ts";
