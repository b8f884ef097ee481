import { nativeToTokens, PARITY, type TokenPrice } from "../payments/token-price.ts";
import { OrchestratorError } from "./errors.ts";
import {
  FACE_VALUE_GAS_MULTIPLE,
  type OrchestratorConfig,
  REDEEM_GAS,
  TYPICAL_SEGMENT_PIXELS,
} from "./options.ts";

/** Win probabilities are given as a fraction; this is the precision they keep (1e-12). */
const WIN_PROB_DENOMINATOR = 1_000_000_000_000n;

export interface TicketEconomics {
  /** Expected value of one ticket, token wei. */
  ticketEV: bigint;
  /** Face value asked for, token wei (lowered per sender to its max float). */
  faceValue: bigint;
  /** Below this a win would not pay for its own redemption gas, token wei. */
  minFaceValue: bigint;
  /** One redemption's gas at the gas price these were computed with, native wei. */
  redeemGasCost: bigint;
  /** The token price they were computed with, native wei per token wei. */
  tokenPrice: TokenPrice;
}

/**
 * Chooses face value and expected value from whichever of ticketEv, faceValue and winProb the
 * operator set (any two fix the third; all three would over-determine it). The defaults follow
 * Livepeer: face value at 100x the redemption's gas cost, expected value at a typical segment's
 * fee. `gasPrice` is the chain's current price in native wei; Segmint fees are in its token,
 * so the gas cost is converted at `tokenPrice` (native wei per token wei) before it is compared
 * with face values.
 */
export function ticketEconomics(
  config: Pick<
    OrchestratorConfig,
    "pricePerPixel" | "ticketEv" | "ticketEvSegments" | "faceValue" | "winProb"
  >,
  gasPrice: bigint,
  tokenPrice: TokenPrice = PARITY,
): TicketEconomics {
  const redeemGasCost = gasPrice * REDEEM_GAS;
  const minFaceValue = nativeToTokens(redeemGasCost, tokenPrice);
  const { ticketEv, faceValue, winProb } = config;
  if (ticketEv !== undefined && faceValue !== undefined && winProb !== undefined) {
    throw new OrchestratorError(
      "TICKET_PARAMS_INVALID",
      "ticketEv, faceValue and winProb were all set, but any two of them fix the third",
      {},
      { hint: "drop one of --ticket-ev, --face-value and --win-prob" },
    );
  }
  const probNumerator =
    winProb === undefined ? undefined : BigInt(Math.round(winProb * Number(WIN_PROB_DENOMINATOR)));
  if (probNumerator !== undefined && probNumerator === 0n) {
    throw new OrchestratorError(
      "TICKET_PARAMS_INVALID",
      `win probability ${winProb} is below the supported precision of 1e-12`,
      { winProb },
      { hint: "use a larger --win-prob" },
    );
  }
  const defaultEV = config.pricePerPixel * TYPICAL_SEGMENT_PIXELS * BigInt(config.ticketEvSegments);
  let ev: bigint;
  let face: bigint;
  if (faceValue !== undefined && probNumerator !== undefined) {
    face = faceValue;
    ev = (faceValue * probNumerator) / WIN_PROB_DENOMINATOR;
  } else if (probNumerator !== undefined) {
    ev = ticketEv ?? defaultEV;
    face = (ev * WIN_PROB_DENOMINATOR) / probNumerator;
  } else {
    ev = ticketEv ?? defaultEV;
    face = faceValue ?? bigMax(minFaceValue * FACE_VALUE_GAS_MULTIPLE, ev);
  }
  if (ev <= 0n) {
    throw new OrchestratorError(
      "TICKET_PARAMS_INVALID",
      "the ticket expected value works out to 0 wei (a price per pixel of 0 needs --ticket-ev)",
      { pricePerPixel: config.pricePerPixel.toString() },
      { hint: "set --ticket-ev WEI, or a non-zero --price-per-pixel" },
    );
  }
  if (ev > face) {
    throw new OrchestratorError(
      "TICKET_PARAMS_INVALID",
      `a ticket's expected value (${ev} wei) cannot exceed its face value (${face} wei)`,
      { ticketEV: ev.toString(), faceValue: face.toString() },
      { hint: "raise --face-value or lower --ticket-ev" },
    );
  }
  if (face <= minFaceValue) {
    throw new OrchestratorError(
      "FACE_VALUE_BELOW_GAS",
      `a winning ticket's face value (${face} token wei) would not pay for its redemption gas (${redeemGasCost} native wei, ${minFaceValue} token wei at the current gas and token prices)`,
      {
        faceValue: face.toString(),
        minFaceValue: minFaceValue.toString(),
        redeemGasCost: redeemGasCost.toString(),
      },
      {
        hint: "raise --face-value, or --ticket-ev with a lower --win-prob; check --token-price-eth",
      },
    );
  }
  return { ticketEV: ev, faceValue: face, minFaceValue, redeemGasCost, tokenPrice };
}

function bigMax(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
