import { createServer, type Server, type Socket } from "node:net";
import type { Logger } from "../log/index.ts";
import { silentLogger } from "../log/index.ts";
import { type ConnectionHost, IngestConnection } from "./ingest-connection.ts";
import { IngestError, type IngestRefusal, refusal } from "./ingest-errors.ts";
import type { IngestMetrics } from "./ingest-metrics.ts";
import { type IngestLimits, keyHint, limitProblems, resolveLimits } from "./ingest-policy.ts";
import { IngestStream } from "./ingest-stream.ts";
import type { IngestHandlers, LiveSourceInfo } from "./interface.ts";

/**
 * The RTMP ingest: one TCP port, many publishers, each at rtmp://HOST:PORT/live/STREAM_KEY.
 * A publisher is admitted (URL, key, limits) before anything of it reaches the broadcaster; an
 * admitted one becomes a PublishedStream whose keyframe-aligned MPEG-TS pieces come out as
 * they close. Refusals are one log line and a dropped connection each.
 */

export interface IngestOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks a free port; `port` on the result says which. */
  port?: number;
  handlers: IngestHandlers;
  /** From locateBinaries(); every stream runs one ffmpeg that copies (never re-encodes). */
  ffmpegPath: string;
  /** Target piece length; a piece closes at the first keyframe at or after it. Default 2. */
  segmentSeconds?: number;
  limits?: Partial<IngestLimits>;
  log?: Logger;
  /** Where each stream's ffmpeg working directory is made (default the OS temp dir). */
  tmpRoot?: string;
  /** From createIngestMetrics(registry); null or absent: not measured. */
  metrics?: IngestMetrics | null;
}

export interface Ingest {
  /** rtmp://HOST:PORT; publishers append /live/STREAM_KEY. */
  url: string;
  port: number;
  /** Keys live now (admitted publishers, including those still before their first keyframe). */
  activeStreams(): string[];
  /** Refuses new connections, ends every stream and waits for every ffmpeg to exit. */
  stop(): Promise<void>;
}

/**
 * A connection on a key whose current publisher has sent nothing for this long takes the key
 * over: OBS and ffmpeg send a frame every 17-42 ms, so 3 s of silence is a dead connection
 * (reconnecting publishers would otherwise wait out the idle limit), while a second publisher on
 * a live key is still refused.
 */
const TAKEOVER_SILENCE_MS = 3_000;

/** How long stop() lets each ffmpeg close its last piece before killing it. */
const STOP_GRACE_MS = 3_000;

export async function startIngest(options: IngestOptions): Promise<Ingest> {
  const limits = resolveLimits(options.limits);
  const segmentSeconds = options.segmentSeconds ?? 2;
  const problems = limitProblems(limits);
  if (!(segmentSeconds > 0) || !Number.isFinite(segmentSeconds)) {
    problems.push(`segmentSeconds must be a positive number, got ${segmentSeconds}`);
  }
  if (problems.length > 0) {
    throw new IngestError(
      "INGEST_OPTIONS_INVALID",
      `invalid ingest settings: ${problems.join("; ")}`,
      { problems },
      { hint: "fix the listed settings" },
    );
  }
  const log = (options.log ?? silentLogger()).child({ component: "ingest" });
  const host = options.host ?? "127.0.0.1";
  const { handlers } = options;
  const metrics = options.metrics ?? null;

  /** Admitted connections by stream key. */
  const byKey = new Map<string, IngestConnection>();
  const connections = new Set<IngestConnection>();
  const streams = new Set<IngestStream>();
  let nextId = 1;
  let stopping = false;

  const connectionHost: ConnectionHost = {
    limits,
    log,
    metrics,
    admit(connection, key): IngestRefusal | null {
      if (stopping) return refusal("INGEST_TOO_MANY_STREAMS", "the ingest is shutting down");
      // The key first: a stranger learns nothing about which keys are live or how full we are.
      let decision: ReturnType<IngestHandlers["authorize"]>;
      try {
        decision = handlers.authorize(key);
      } catch (error) {
        log.error({ err: error, key: keyHint(key) }, "stream key check failed");
        decision = { accept: false, reason: "the broadcaster could not check the key" };
      }
      if (!decision.accept) return refusal("INGEST_KEY_REFUSED", decision.reason);
      const current = byKey.get(key);
      if (current !== undefined) {
        if (current.silentForMs() < TAKEOVER_SILENCE_MS) {
          return refusal(
            "INGEST_KEY_BUSY",
            "another publisher is live on this stream key; stop it first or use another key",
          );
        }
        // The publisher is reconnecting and its old connection is dead but not yet noticed.
        current.supersede();
        byKey.delete(key);
      }
      if (byKey.size >= limits.maxStreams) {
        return refusal(
          "INGEST_TOO_MANY_STREAMS",
          `the ingest takes at most ${limits.maxStreams} streams at once; try again later`,
          { max: limits.maxStreams },
        );
      }
      byKey.set(key, connection);
      return null;
    },
    open(connection, key, source: () => LiveSourceInfo): IngestStream {
      const stream = new IngestStream({
        streamKey: key,
        ffmpegPath: options.ffmpegPath,
        segmentSeconds,
        maxQueuedSegments: limits.maxQueuedSegments,
        source,
        log: connection.log,
        tmpRoot: options.tmpRoot,
        disconnect: (reason) => connection.disconnect(reason),
        metrics,
      });
      streams.add(stream);
      metrics?.streamsChanged(streams.size);
      void stream.done.then(() => {
        streams.delete(stream);
        metrics?.streamsChanged(streams.size);
      });
      try {
        handlers.onPublish(stream.published);
      } catch (error) {
        log.error({ err: error, key: keyHint(key) }, "the broadcaster failed to take a stream");
        connection.disconnect("the broadcaster failed to take the stream");
      }
      return stream;
    },
    closed(connection): void {
      connections.delete(connection);
      const key = connection.streamKey;
      if (key !== undefined && byKey.get(key) === connection) byKey.delete(key);
    },
  };

  const server: Server = createServer({ noDelay: true }, (socket: Socket) => {
    if (stopping) {
      socket.destroy();
      return;
    }
    metrics?.connectionOpened();
    const connection = new IngestConnection(nextId++, socket, connectionHost);
    connections.add(connection);
  });
  // A client that resets mid-handshake is its own problem, not the server's.
  server.on("error", (error) => log.error({ err: error }, "ingest server error"));

  await new Promise<void>((resolve, reject) => {
    const onError = (cause: Error) => {
      reject(
        new IngestError(
          "INGEST_LISTEN_FAILED",
          `the RTMP ingest could not listen on ${host}:${options.port ?? 0}: ${cause.message}`,
          { host, port: options.port ?? 0 },
          { hint: "choose a free port (--rtmp HOST:PORT) or stop what holds it", cause },
        ),
      );
    };
    server.once("error", onError);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : (options.port ?? 0);
  const urlHost = host.includes(":") ? `[${host}]` : host;
  log.info({ host, port, segmentSeconds, ...limits }, "RTMP ingest listening");

  let stopped: Promise<void> | undefined;
  return {
    url: `rtmp://${urlHost}:${port}`,
    port,
    activeStreams: () => [...byKey.keys()],
    stop() {
      stopped ??= (async () => {
        stopping = true;
        const closing = new Promise<void>((resolve) => server.close(() => resolve()));
        const open = [...connections];
        for (const connection of open) {
          connection.disconnect("the ingest is stopping", { linger: false });
        }
        const pending = [...streams];
        const grace = setTimeout(() => {
          for (const stream of pending) stream.kill();
        }, STOP_GRACE_MS);
        await Promise.all(pending.map((stream) => stream.done));
        clearTimeout(grace);
        await Promise.all(open.map((connection) => connection.closed));
        await closing;
        log.info("RTMP ingest stopped");
      })();
      return stopped;
    },
  };
}

export { IngestError, type IngestErrorCode, type IngestRefusalCode } from "./ingest-errors.ts";
export { createIngestMetrics, type IngestMetrics } from "./ingest-metrics.ts";
export { defaultIngestLimits, type IngestLimits, resolveLimits } from "./ingest-policy.ts";
