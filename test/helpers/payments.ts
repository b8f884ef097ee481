import type { TicketDomain } from "../../node/src/chain/ticket.ts";
import {
  Balances,
  type ChainStateCache,
  defaultValidatorOptions,
  TicketParamsIssuer,
  TicketValidator,
  type WinningTicketJournal,
} from "../../node/src/payments/index.ts";

/** The orchestrator's payment side as the daemon wires it, for tests that drive it by hand. */
export interface TicketDesk {
  issuer: TicketParamsIssuer;
  validator: TicketValidator;
}

/**
 * An issuer and a validator for `recipient` sharing one secret, cache and journal (as they
 * must: the validator re-derives the rands the issuer committed to), asking `faceValue` at
 * `ticketEV` per ticket and 1 wei per pixel, with the default validator options.
 */
export function ticketDesk(deps: {
  recipient: string;
  secret: Uint8Array;
  domain: TicketDomain;
  cache: ChainStateCache;
  journal: WinningTicketJournal;
  faceValue: bigint;
  ticketEV: bigint;
}): TicketDesk {
  const { recipient, secret, domain, cache, journal } = deps;
  return {
    issuer: new TicketParamsIssuer(recipient, secret, cache, journal, {
      faceValue: deps.faceValue,
      ticketEV: deps.ticketEV,
      pricePerPixel: 1n,
      minFaceValue: 1n,
    }),
    validator: new TicketValidator({
      recipient,
      secret,
      domain,
      cache,
      journal,
      balances: new Balances(),
      options: defaultValidatorOptions,
    }),
  };
}
