import { z } from "zod";
import { commaList, switchSetting, weiAmount } from "../config/schemas.ts";
import { defaultRedeemerOptions } from "../payments/options.ts";
import { parseTokenPrice } from "../payments/token-price.ts";

/**
 * The orchestrator's settings: one zod schema that the config file (JSON), SEGMINT_* variables
 * and command-line flags all map onto (config/load.ts merges them, file < env < flags, and
 * reports every problem at once). Values arrive as strings from env and flags, so each field
 * coerces; defaults live here and nowhere else.
 */

const wei = weiAmount;

const positiveWei = wei.refine((v) => v > 0n, "must be greater than 0");

/** Parts per million (a reward cut or fee share): 0 to 1,000,000. */
const ppm = z.coerce.number().int().min(0).max(1_000_000);

/** A list from JSON (array) or from env/flags ("a,b" or an array of strings). */
const stringList = commaList(z.string().min(1));

const multiaddrList = commaList(
  z.string().startsWith("/", "expected a multiaddr such as /ip4/0.0.0.0/tcp/4001"),
);

const bool = switchSetting;

export const orchestratorConfigSchema = z.strictObject({
  /** JSON-RPC endpoint of the chain. */
  rpc: z.url({ protocol: /^(https?|wss?)$/, error: "expected an http(s) or ws(s) URL" }),
  /** The deployment JSON written by `segmint deploy`. */
  deployment: z.string().min(1),
  /** Signing key: a hex private key (SEGMINT_PRIVATE_KEY) or a keystore with its password. */
  privateKey: z.string().min(1).optional(),
  keystore: z.string().min(1).optional(),
  passwordFile: z.string().min(1).optional(),
  keystorePassword: z.string().optional(),
  /** Peer key, SQLite journal and ticket secret live here. */
  dataDir: z.string().min(1).default(".segmint"),
  /** Price quoted to broadcasters, token wei per output pixel. */
  pricePerPixel: wei,
  /** Share of each round's reward the orchestrator keeps; unset keeps what is on chain. */
  rewardCut: ppm.optional(),
  /** Share of fees passed to delegators; unset keeps what is on chain. */
  feeShare: ppm.optional(),
  /** Self-bonded stake to reach at start-up (tops up the difference); unset bonds nothing. */
  stake: wei.optional(),
  /** Multiaddrs or HOST:PORT (p2p/addresses.ts converts them at start-up, ports.ts checks the ports). */
  listen: stringList.default(["/ip4/0.0.0.0/tcp/4001"]),
  /** Addresses to publish instead of the listen addresses (public IP behind NAT). */
  announce: stringList.default([]),
  bootstrap: multiaddrList.default([]),
  mdns: bool.default(false),
  /** Status server port on 127.0.0.1; 0 picks a free one. 7935 is go-livepeer's CLI port. */
  httpPort: z.coerce.number().int().min(0).max(65_535).default(7935),
  /** Segments transcoded at once; unset uses the session count capability detection found. */
  maxSessions: z.coerce.number().int().min(1).max(256).optional(),
  /** Profiles this node accepts (preset names or a JSON ladder); unset accepts any valid one. */
  profiles: stringList.optional(),
  /**
   * Expected value of one ticket, token wei. Unset: `ticketEvSegments` typical segments' fees
   * at this node's price, so a broadcaster sends about one ticket per segment.
   */
  ticketEv: positiveWei.optional(),
  /** Typical segments one ticket's expected value should pay for (when ticketEv is unset). */
  ticketEvSegments: z.coerce.number().int().min(1).max(10_000).default(1),
  /** Face value of a ticket, token wei. Unset: 100x the gas cost of redeeming it (Livepeer). */
  faceValue: positiveWei.optional(),
  /** Chance that a ticket wins, (0, 1]; with ticketEv it sets the face value. */
  winProb: z.coerce.number().gt(0).max(1).optional(),
  /**
   * What one token is worth in the chain's native coin (ETH per token, a decimal such as
   * "0.0004"). Face values (tokens) are weighed against redemption gas (ETH) at this price.
   * Unset counts them 1:1, which only makes sense on a dev chain.
   */
  tokenPriceEth: z
    .string()
    .transform((text, ctx) => {
      const price = parseTokenPrice(text);
      if (price === null) {
        ctx.addIssue({
          code: "custom",
          message: `expected a positive decimal number of ETH per token, such as 0.0004 (got "${text}")`,
        });
        return z.NEVER;
      }
      return price;
    })
    .optional(),
  /** Never redeem at a gas price above this, native wei. */
  maxGasPrice: positiveWei.default(500_000_000_000n),
  /**
   * Blocks a redemption needs (its own included) before its tickets count as redeemed; a
   * reorganization before that sends them again.
   */
  redeemConfirmations: z.coerce.number().int().min(1).max(1_000).default(1),
  /** Winning tickets sent per redemption transaction. */
  redeemBatchSize: z.coerce.number().int().min(1).max(50).default(10),
  /** How often the round/reward service and the redeemer look at the chain. */
  pollIntervalMs: z.coerce.number().int().min(50).max(600_000).default(2_000),
  /** Call reward() once per round while active. */
  reward: bool.default(true),
  /** Register, stake and publish again when the chain no longer has this registration. */
  reregister: bool.default(true),
  logLevel: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  /** Log lines: pretty or json; unset, pretty on a terminal and json otherwise. */
  logFormat: z.enum(["pretty", "json"]).optional(),
});

export type OrchestratorConfigInput = z.input<typeof orchestratorConfigSchema>;
export type OrchestratorConfig = z.output<typeof orchestratorConfigSchema>;

/**
 * A segment as the defaults picture it: 2 s of 720p + 480p + 360p at 30 fps,
 * (1280x720 + 854x480 + 640x360) x 60 frames, about 94 million output pixels.
 */
export const TYPICAL_SEGMENT_PIXELS = (1280n * 720n + 854n * 480n + 640n * 360n) * 60n;

/** Gas of one ticket redemption, as the payments redeemer estimates it. */
export const REDEEM_GAS = defaultRedeemerOptions.gasPerTicket;

/**
 * Livepeer sets a ticket's face value to 100x the redemption transaction's cost, so that gas
 * eats at most 1% of what a win pays.
 */
export const FACE_VALUE_GAS_MULTIPLE = 100n;
