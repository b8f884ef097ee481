import { z } from "zod";
import { commaList, switchSetting, weiAmount } from "../config/schemas.ts";
import { errorMessage, isSegmintError } from "../errors.ts";
import { toMultiaddr } from "../p2p/addresses.ts";

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
  // Spot checks (an SSIM pass over one rendition, ~0.1-0.5 s of CPU per 2 s segment) on a
  // sample: every other segment of an orchestrator without a record, every segment of one with
  // a failure on record, one in twenty of a proven one.
  spotCheckRate: 0.05,
  unprovenSpotCheckRate: 0.5,
  suspectSpotCheckRate: 1,
  // Verified segments before an orchestrator counts as proven (each failure on record asks for
  // this many more). Twenty 2 s segments: under a minute of work.
  provenAfterSegments: 20,
  // One 2 s 720p+480p+360p segment costs ~0.094 tokens at the default price cap: an unproven
  // orchestrator's ticket may be worth about one segment, not a whole token.
  unprovenMaxTicketEV: TOKEN / 10n,
  // Honest renditions measured 0.96-0.996 SSIM against the scaled source (docs/broadcaster-guide.md);
  // below the floor a local reference transcode decides.
  minSsim: { "*": 0.95 } as Readonly<Record<string, number>>,
  referenceSsimMargin: 0.05,
  // Thumbnail distance (0-255 grey levels, 32x18): honest <= 0.6 measured, a blur >= 7.
  maxContentDistance: 6,
  // Video bitrate floor as a fraction of min(profile bitrate, source bitrate).
  minBitrateFraction: 0.05,
} as const;

/** Wei, or "N tokens": the same amount syntax as the orchestrator's settings. */
const wei = weiAmount;

const list = commaList(z.string().min(1));

/**
 * libp2p listen addresses, HOST:PORT or multiaddrs as the orchestrator takes them, decoded to
 * multiaddrs; a value that is neither is a problem named with the others, before any dial.
 */
const listenAddresses = list.transform((addrs, ctx) =>
  addrs.map((addr) => {
    try {
      return toMultiaddr("--listen", addr);
    } catch (error) {
      const hint = isSegmintError(error) && error.hint !== "" ? `: ${error.hint}` : "";
      ctx.addIssue({ code: "custom", input: addr, message: `${errorMessage(error)}${hint}` });
      return addr;
    }
  }),
);

/** An orchestrator's address; compared without regard to case. */
const address = z
  .string()
  .trim()
  .regex(/^0x[0-9a-fA-F]{40}$/, "expected an orchestrator's address (0x and 40 hex digits)");

const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);

const fraction = z.coerce.number().min(0).max(1);

/**
 * SSIM floors: one number for every profile ("0.95"), or per profile name with an optional
 * default ("720p=0.96,360p=0.94,*=0.95").
 */
const ssimFloors = z
  .union([z.number(), z.string(), z.record(z.string(), z.number().min(0).max(1))])
  .transform((value, ctx): Record<string, number> => {
    if (typeof value === "object") return { ...value };
    const text = String(value).trim();
    const floors: Record<string, number> = {};
    for (const part of text
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p !== "")) {
      const [name, raw] = part.includes("=") ? part.split("=", 2) : ["*", part];
      const floor = Number(raw);
      if (name === undefined || name.trim() === "" || !(floor >= 0 && floor <= 1)) {
        ctx.addIssue({ code: "custom", message: `"${part}" is not NAME=SSIM with SSIM in 0..1` });
        return floors;
      }
      floors[name.trim()] = floor;
    }
    return floors;
  });

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
  /** Use only these orchestrators (`--orchestrator`, repeatable); empty: any. */
  pinnedOrchestrators: commaList(address).default([]),
  /** Never use these (`--exclude-orchestrator`, repeatable); wins over a pin. */
  excludedOrchestrators: commaList(address).default([]),
  maxAttempts: positiveInt(10).default(defaultBroadcastOptions.maxAttempts),
  segmentSeconds: z.coerce
    .number()
    .positive()
    .max(10)
    .default(defaultBroadcastOptions.segmentSeconds),
  listen: listenAddresses.default([...defaultBroadcastOptions.listen]),
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
  /**
   * The orchestrator reputation store (SQLite). Default: reputation.sqlite in dataDir; without
   * a dataDir the record lasts for the run only.
   */
  reputationFile: z.string().min(1).optional(),
  spotCheckRate: fraction.default(defaultBroadcastOptions.spotCheckRate),
  unprovenSpotCheckRate: fraction.default(defaultBroadcastOptions.unprovenSpotCheckRate),
  suspectSpotCheckRate: fraction.default(defaultBroadcastOptions.suspectSpotCheckRate),
  provenAfterSegments: positiveInt(1_000_000).default(defaultBroadcastOptions.provenAfterSegments),
  unprovenMaxTicketEV: wei.default(defaultBroadcastOptions.unprovenMaxTicketEV),
  minSsim: ssimFloors.default({ ...defaultBroadcastOptions.minSsim }),
  referenceSsimMargin: fraction.default(defaultBroadcastOptions.referenceSsimMargin),
  maxContentDistance: z.coerce
    .number()
    .positive()
    .max(255)
    .default(defaultBroadcastOptions.maxContentDistance),
  minBitrateFraction: fraction.default(defaultBroadcastOptions.minBitrateFraction),
};

export const broadcastConfigSchema = z.object({
  /** The video file to broadcast (anything ffmpeg reads). */
  input: z.string({ error: "name the input file" }).min(1, "name the input file"),
  /** Folder the HLS output is written to. */
  outDir: z
    .string({ error: "name the output folder (--out)" })
    .min(1, "name the output folder (--out)"),
  /**
   * Remove the Segmint HLS files of a run without a broadcast record from `outDir` first
   * (otherwise such a folder is refused: a broadcast never writes among another run's files).
   */
  overwrite: switchSetting.default(false),
  ...broadcasterSessionFields,
});

export type BroadcastConfig = z.output<typeof broadcastConfigSchema>;
export type BroadcastConfigInput = z.input<typeof broadcastConfigSchema>;

const broadcasterSessionSchema = z.object(broadcasterSessionFields);
/** The settings every broadcaster session reads (a superset satisfies it). */
export type BroadcasterSessionConfig = z.output<typeof broadcasterSessionSchema>;

/**
 * What verification and the trust policy read (worker.ts, trust.ts): the settings above plus
 * constants no operator needs to move.
 */
export interface VerificationOptions {
  spotCheckRate: number;
  unprovenSpotCheckRate: number;
  suspectSpotCheckRate: number;
  provenAfterSegments: number;
  unprovenMaxTicketEV: bigint;
  /** SSIM floor per profile name, "*" for the rest. */
  minSsim: Record<string, number>;
  referenceSsimMargin: number;
  maxContentDistance: number;
  minBitrateFraction: number;
  /**
   * Thumbnail mean luma (0-255) under which a picture is black; only a source at least twice
   * as bright makes that a failure (a fade to black is honest). Measured: black 0-0.9, the
   * test pattern 126.
   */
  blackLuma: number;
  /**
   * A rendition moving less than this fraction of its source is frozen, checked only when the
   * source moves at least `minSourceMotion` grey levels per frame (a still source may freeze).
   * Measured: honest 0.99-1.01 of the source, a frozen picture 0.001-0.002.
   */
  frozenMotionRatio: number;
  minSourceMotion: number;
  /** Slack on the bitrate ceiling (rounding, the encoder's first GOP). */
  bitrateSlack: number;
}

/** Verification settings from a broadcaster's config (defaults already applied). */
export function verificationOptions(
  cfg: Pick<
    BroadcasterSessionConfig,
    | "spotCheckRate"
    | "unprovenSpotCheckRate"
    | "suspectSpotCheckRate"
    | "provenAfterSegments"
    | "unprovenMaxTicketEV"
    | "minSsim"
    | "referenceSsimMargin"
    | "maxContentDistance"
    | "minBitrateFraction"
  >,
): VerificationOptions {
  return {
    spotCheckRate: cfg.spotCheckRate,
    unprovenSpotCheckRate: cfg.unprovenSpotCheckRate,
    suspectSpotCheckRate: cfg.suspectSpotCheckRate,
    provenAfterSegments: cfg.provenAfterSegments,
    unprovenMaxTicketEV: cfg.unprovenMaxTicketEV,
    minSsim: cfg.minSsim,
    referenceSsimMargin: cfg.referenceSsimMargin,
    maxContentDistance: cfg.maxContentDistance,
    minBitrateFraction: cfg.minBitrateFraction,
    blackLuma: 16,
    frozenMotionRatio: 0.1,
    minSourceMotion: 0.5,
    bitrateSlack: 1.25,
  };
}

/** The defaults, for callers without a config (tests, tools). */
export const defaultVerificationOptions: VerificationOptions = verificationOptions(
  broadcasterSessionSchema.parse({ rpc: "http://127.0.0.1:8545", deployment: "-" }),
);
