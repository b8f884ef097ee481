import { z } from "zod";
import { commaList, weiAmount } from "../config/schemas.ts";

/**
 * The broadcaster's settings: one zod schema for the config file, SEGMINT_* variables and the
 * `segmint broadcast` flags (config/load.ts layers them), defaults in one place below.
 * Token amounts are wei, read as decimal strings, integers or "N tokens", and become bigints.
 */

const TOKEN = 10n ** 18n;

export const defaultBroadcastOptions = {
  profiles: "720p,480p,360p",
  // 720p+480p+360p at 30 fps is ~47 Mpixel per media second: 1 gwei-token per pixel caps a
  // media minute at ~2.8 tokens, well above a sane price yet bounding a typo's damage.
  maxPricePerPixel: 1_000_000_000n,
  // One ticket may be worth at most 1 token: bounds what a single lucky win can take.
  maxTicketEV: TOKEN,
  // Expected value of everything sent in one run.
  maxSpend: 100n * TOKEN,
  orchestrators: 2,
  maxAttempts: 3,
  segmentSeconds: 2,
  // A broadcaster only dials out; an ephemeral port on every interface lets gossip peers dial back.
  listen: ["/ip4/0.0.0.0/tcp/0"],
  bootstrap: [] as string[],
  // Adverts and registry reads arrive within a few seconds on a working network.
  discoveryWaitMs: 15_000,
  // Each orchestrator gets at most this many segments at once, whatever capacity it reports:
  // more would only queue on its side and make a failure cost more retries.
  maxInFlightPerOrchestrator: 4,
} as const;

/** Wei, or "N tokens": the same amount syntax as the orchestrator's settings. */
const wei = weiAmount;

const list = commaList(z.string().min(1));

const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);

/**
 * What every broadcaster needs, the one-shot `segmint broadcast` and the `segmint broadcaster`
 * daemon alike: the chain, the key, the ladder, the payment caps and the network.
 */
export const broadcasterSessionFields = {
  rpc: z.url({ error: "expected a JSON-RPC URL such as http://127.0.0.1:8545 (--rpc)" }),
  /** The deployment JSON written by `segmint deploy`. */
  deployment: z
    .string({ error: "name the deployment file (--deployment)" })
    .min(1, "name the deployment file (--deployment)"),
  privateKey: z.string().optional(),
  keystore: z.string().optional(),
  passwordFile: z.string().optional(),
  keystorePassword: z.string().optional(),
  profiles: z.string().min(1).default(defaultBroadcastOptions.profiles),
  maxPricePerPixel: wei.default(defaultBroadcastOptions.maxPricePerPixel),
  maxTicketEV: wei.default(defaultBroadcastOptions.maxTicketEV),
  maxSpend: wei.default(defaultBroadcastOptions.maxSpend),
  deposit: wei.optional(),
  reserve: wei.optional(),
  orchestrators: positiveInt(64).default(defaultBroadcastOptions.orchestrators),
  maxAttempts: positiveInt(10).default(defaultBroadcastOptions.maxAttempts),
  segmentSeconds: z.coerce
    .number()
    .positive()
    .max(10)
    .default(defaultBroadcastOptions.segmentSeconds),
  listen: list.default([...defaultBroadcastOptions.listen]),
  bootstrap: list.default([]),
  discoveryWaitMs: z.coerce
    .number()
    .int()
    .min(0)
    .max(600_000)
    .default(defaultBroadcastOptions.discoveryWaitMs),
  maxInFlightPerOrchestrator: positiveInt(64).default(
    defaultBroadcastOptions.maxInFlightPerOrchestrator,
  ),
  /** Folder for the libp2p peer key; a temporary one (removed afterwards) when unset. */
  dataDir: z.string().optional(),
};

export const broadcastConfigSchema = z.object({
  /** The video file to broadcast (anything ffmpeg reads). */
  input: z.string({ error: "name the input file" }).min(1, "name the input file"),
  /** Folder the HLS output is written to. */
  outDir: z
    .string({ error: "name the output folder (--out)" })
    .min(1, "name the output folder (--out)"),
  ...broadcasterSessionFields,
});

export type BroadcastConfig = z.output<typeof broadcastConfigSchema>;
export type BroadcastConfigInput = z.input<typeof broadcastConfigSchema>;

const broadcasterSessionSchema = z.object(broadcasterSessionFields);
/** The settings every broadcaster session reads (a superset satisfies it). */
export type BroadcasterSessionConfig = z.output<typeof broadcasterSessionSchema>;
