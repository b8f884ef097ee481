import { z } from "zod";
import { broadcasterSessionFields } from "../broadcaster/options.ts";
import { commaList, switchSetting, weiAmount } from "../config/schemas.ts";
import { defaultLiveStreamOptions } from "./stream.ts";

/**
 * The `segmint broadcaster` daemon's settings: everything a broadcaster session needs
 * (chain, key, ladder, caps, network) plus the live side. One zod schema for the config file,
 * SEGMINT_* variables and flags; defaults in one place below.
 */
export const defaultDaemonOptions = {
  rtmp: "127.0.0.1:1935",
  http: "127.0.0.1:8935",
  outDir: "segmint-live",
  // Four 1080p streams already need ~4 CPU orchestrators; more is an operator's decision.
  maxStreams: 4,
  // OBS's highest preset for 1080p60 is ~9 Mbit/s; twice that leaves room without letting one
  // publisher take the machine's bandwidth.
  maxBitrateBps: 20_000_000,
  // Six segments (12 s at 2 s) in each sliding-window playlist: hls.js and Safari start three
  // segments from the end, so the window keeps a few behind that for slow players.
  windowSegments: 6,
  // Minutes of streaming, at the ladder's price cap, that the deposit must cover before a new
  // stream is accepted; auto-deposit tops it up to twice that.
  coverMinutes: 5,
} as const;

/** host:port with a numeric port (0 picks a free one). */
const hostPort = (what: string) =>
  z
    .string()
    .regex(/^[^\s:/]+:\d{1,5}$/, `expected HOST:PORT such as 127.0.0.1:1935 (${what})`)
    .refine((v) => {
      const port = Number(v.split(":")[1]);
      // Only a well-formed HOST:PORT gets here with a number; the regex reports the rest.
      return !Number.isFinite(port) || port <= 65_535;
    }, `port out of range (${what})`);

export const daemonConfigSchema = z.strictObject({
  ...broadcasterSessionFields,
  /** Where publishers connect: rtmp://HOST:PORT/live/STREAM_KEY. */
  rtmp: hostPort("--rtmp").default(defaultDaemonOptions.rtmp),
  /** Live HLS, the player page, /status and /metrics. */
  http: hostPort("--http").default(defaultDaemonOptions.http),
  /** Each stream is recorded as VOD HLS under OUT/STREAM_KEY/. */
  outDir: z.string().min(1).default(defaultDaemonOptions.outDir),
  streamKeys: commaList(
    z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, "stream keys are 1-128 of A-Z a-z 0-9 _ -"),
  ).default([]),
  /** Accept any stream key (dev chains only). */
  allowAnyKey: switchSetting.default(false),
  /** Token wei the daemon may move into its deposit and reserve on its own; 0 never does. */
  autoDeposit: weiAmount.default(0n),
  maxStreams: z.coerce.number().int().min(1).max(256).default(defaultDaemonOptions.maxStreams),
  allow4k: switchSetting.default(false),
  maxBitrateBps: z.coerce.number().int().min(100_000).default(defaultDaemonOptions.maxBitrateBps),
  windowSegments: z.coerce
    .number()
    .int()
    .min(3)
    .max(60)
    .default(defaultDaemonOptions.windowSegments),
  deadlineSeconds: z.coerce
    .number()
    .min(1)
    .max(60)
    .default(defaultLiveStreamOptions.deadlineSeconds),
  reconnectGraceSeconds: z.coerce
    .number()
    .min(0)
    .max(600)
    .default(defaultLiveStreamOptions.reconnectGraceSeconds),
  coverMinutes: z.coerce.number().min(0).max(1440).default(defaultDaemonOptions.coverMinutes),
});

export type DaemonConfig = z.output<typeof daemonConfigSchema>;
export type DaemonConfigInput = z.input<typeof daemonConfigSchema>;
