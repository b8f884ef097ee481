/**
 * Live streams: RTMP ingest, the per-stream pipeline through the paid network, live HLS with a
 * player page, and the `segmint broadcaster` daemon that composes them.
 */
export {
  type BroadcasterDaemon,
  type DaemonStatus,
  type DaemonStreamReport,
  startBroadcasterDaemon,
} from "./daemon.ts";
export { DepositKeeper, type FundingState } from "./funding.ts";
export type * from "./interface.ts";
export * from "./options.ts";
export { playbackId } from "./publish-policy.ts";
export { defaultLiveStreamOptions, LiveStream, type LiveStreamStats } from "./stream.ts";
