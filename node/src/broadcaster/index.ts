/**
 * The broadcaster client: a file in, HLS out, the transcoding bought from orchestrators on the
 * network (selection, payment, parallel dispatch with retries and suspension, verification).
 */

export { wireProfile } from "../protocol/profiles.ts";
export {
  PaymentChannel,
  PaymentChannels,
  type SegmentPayment,
  type TicketParamsSource,
} from "./channel.ts";
export {
  classifyFailure,
  Dispatcher,
  type DispatcherOptions,
  type DispatchSummary,
  defaultDispatcherOptions,
  type FailureKind,
} from "./dispatcher.ts";
export { BroadcasterError, type BroadcasterErrorCode, isBroadcasterError } from "./errors.ts";
export { HlsOutput } from "./hls-output.ts";
export { prepareInput } from "./input.ts";
export type * from "./interface.ts";
export { createVerificationMetrics, type VerificationMetrics } from "./metrics.ts";
export * from "./options.ts";
export { NetworkOrchestratorSource } from "./pool.ts";
export { type OrchestratorRecord, type Reputation, ReputationStore } from "./reputation.ts";
export * from "./selection.ts";
export {
  type BroadcastDeps,
  type BroadcastProgress,
  type BroadcastSummary,
  runBroadcast,
} from "./session.ts";
export { SuspensionList, type SuspensionOptions } from "./suspension.ts";
export { StreamTrust, type VerificationFailureReport, type VerificationReport } from "./trust.ts";
export { expectedFrames, expectedPixels, VERIFICATION_CHECKS, verifyResult } from "./verify.ts";
export { NetworkSegmentWorker, type OrchestratorTransport } from "./worker.ts";
