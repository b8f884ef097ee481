import { multiaddr } from "@multiformats/multiaddr";
import { z } from "zod";
import { commaList } from "../config/schemas.ts";
import { parseBootstrap } from "./discovery.ts";
import { defaultP2pOptions, type P2pOptions } from "./options.ts";

/**
 * The operator-facing p2p settings, for the config loader (node/src/config: file < SEGMINT_*
 * env < flags). Env values arrive as strings, so lists also accept comma-separated text and
 * numbers and booleans are coerced. Protocol limits stay in options.ts: they are part of the
 * protocol's behaviour, not something to tune per node without reason.
 */

const boolish = z.preprocess(
  (value) =>
    value === "true" || value === "1" ? true : value === "false" || value === "0" ? false : value,
  z.boolean(),
);

/** A string `parse` accepts (it throws on anything else). */
function parsedBy(parse: (text: string) => unknown, message: string) {
  return z.string().refine(
    (text) => {
      try {
        parse(text);
        return true;
      } catch {
        return false;
      }
    },
    { message },
  );
}

const multiaddrText = parsedBy(multiaddr, "not a multiaddr (write it like /ip4/0.0.0.0/tcp/4001)");

const bootstrapText = parsedBy(parseBootstrap, "not a multiaddr ending in /p2p/<peer id>");

const host = defaultP2pOptions.host;
const transcode = defaultP2pOptions.transcode;

export const p2pConfigSchema = z.object({
  listen: commaList(multiaddrText).default(host.listen),
  announce: commaList(multiaddrText).default(host.announce),
  bootstrap: commaList(bootstrapText).default(defaultP2pOptions.bootstrap),
  mdns: boolish.default(host.mdns),
  gossipsub: boolish.default(host.gossipsub),
  maxConnections: z.coerce.number().int().min(1).default(host.maxConnections),
  /** Concurrent transcodes (orchestrator); also reported as capacity in info and adverts. */
  capacity: z.coerce.number().int().min(1).max(1024).default(transcode.capacity),
  maxSegmentBytes: z.coerce
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(transcode.maxSegmentBytes),
  transcodeTimeoutMs: z.coerce.number().int().min(1000).default(transcode.timeoutMs),
});
export type P2pConfig = z.output<typeof p2pConfigSchema>;

/** Full options from validated settings and the node's data dir. */
export function p2pOptionsFromConfig(config: P2pConfig, dataDir: string): P2pOptions {
  return {
    ...defaultP2pOptions,
    host: {
      ...defaultP2pOptions.host,
      dataDir,
      listen: config.listen,
      announce: config.announce,
      mdns: config.mdns,
      gossipsub: config.gossipsub,
      maxConnections: config.maxConnections,
    },
    transcode: {
      ...defaultP2pOptions.transcode,
      capacity: config.capacity,
      maxSegmentBytes: config.maxSegmentBytes,
      timeoutMs: config.transcodeTimeoutMs,
    },
    bootstrap: config.bootstrap,
  };
}
