export { Balances } from "./balances.ts";
export { BrokerClient, type ChainStateInvalidation } from "./broker-client.ts";
export {
  ChainStateCache,
  type RoundState,
  reserveShare,
  type SenderFunds,
} from "./chain-cache.ts";
export {
  BAD_TICKET_REASONS,
  type BadTicketReason,
  PaymentsError,
  type PaymentsErrorCode,
} from "./errors.ts";
export type * from "./interface.ts";
export * from "./options.ts";
export {
  deriveRecipientRand,
  deriveRecipientRandBytes,
  EPOCH_BYTES,
  epochPrefix,
  maxFloat,
  TicketParamsIssuer,
} from "./params.ts";
export { Redeemer, type RedeemerDeps } from "./redeemer.ts";
export {
  checkSpendCap,
  SenderNonces,
  segmentFee,
  TicketSender,
  TicketSigner,
  type TicketSignerCaps,
  ticketsToCover,
} from "./sender.ts";
export { type TicketAcceptance, TicketValidator, type TicketValidatorDeps } from "./validator.ts";
