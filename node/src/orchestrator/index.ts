/**
 * The orchestrator role: its config schema, its composition root and the pieces it is built
 * from, for the CLI, the devnet and other roles' tests that start orchestrators in-process.
 */
export { queuedRedeemChain } from "./chain.ts";
export { OrchestratorError, type OrchestratorErrorCode } from "./errors.ts";
export { type StatusServer, type StatusServerOptions, startStatusServer } from "./http.ts";
export { loadOrCreateTicketSecret, MeteredJournal } from "./journal.ts";
export {
  type OrchestratorDeps,
  type OrchestratorNode,
  readyLine,
  startOrchestrator,
} from "./node.ts";
export {
  FACE_VALUE_GAS_MULTIPLE,
  type OrchestratorConfig,
  type OrchestratorConfigInput,
  orchestratorConfigSchema,
  REDEEM_GAS,
  TYPICAL_SEGMENT_PIXELS,
} from "./options.ts";
export { type TicketEconomics, ticketEconomics } from "./pricing.ts";
export { DEFAULT_FEE_SHARE_PPM, DEFAULT_REWARD_CUT_PPM, Registration } from "./registration.ts";
export { RoundService } from "./reward-service.ts";
export type { OrchestratorStatus } from "./status.ts";
export { PaidTranscodeService, profileKeys } from "./transcode-service.ts";
