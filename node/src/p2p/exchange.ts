import type { AbortOptions, PeerId, Stream } from "@libp2p/interface";
import type { Multiaddr } from "@multiformats/multiaddr";
import { errorMessage } from "../errors.ts";
import type { RefusalAnswer } from "../protocol/index.ts";
import { P2pError, RemoteError } from "./errors.ts";
import { abortError } from "./framing.ts";
import type { SegmintNode } from "./host.ts";

/** A signal that fires on the exchange's time limit or on any of the given signals. */
export function exchangeSignal(timeoutMs: number, ...signals: Array<AbortSignal | undefined>) {
  const all = [AbortSignal.timeout(timeoutMs)];
  for (const signal of signals) if (signal !== undefined) all.push(signal);
  return AbortSignal.any(all);
}

/**
 * A signal that fires when `stream` closes under us (the remote reset it or the connection
 * dropped), so work done for a peer that is gone stops instead of running to its deadline.
 */
export function streamGoneSignal(stream: Stream): AbortSignal {
  const controller = new AbortController();
  stream.addEventListener(
    "close",
    () => controller.abort(new P2pError("P2P_STREAM_ENDED", "the stream closed", {})),
    { once: true },
  );
  return controller.signal;
}

/**
 * The error a client throws for an orchestrator's refusal: its wire code and details as the
 * protocol schema decoded them, the reason also in the message so a log line or a summary
 * that shows only the message still names the cause.
 */
export function refusalError(answer: RefusalAnswer): RemoteError {
  const reason = answer.details?.reason;
  const message = reason === undefined ? answer.message : `${answer.message} (${reason})`;
  return new RemoteError(answer.code, message, answer.details ?? {});
}

/** What a client needs from a libp2p node: dialing. Narrow so tests can pass any host. */
export type Dialer = Pick<SegmintNode, "dial">;

export interface OpenedStream {
  stream: Stream;
  /** The remote peer, as proven by the noise handshake. */
  remotePeer: PeerId;
}

/** Dials `peer` (reusing an open connection) and opens one stream of `protocol`. */
export async function openStream(
  node: Dialer,
  peer: PeerId | Multiaddr | Multiaddr[],
  protocol: string,
  signal: AbortSignal,
): Promise<OpenedStream> {
  const options: AbortOptions = { signal };
  try {
    const connection = await node.dial(peer, options);
    const stream = await connection.newStream(protocol, options);
    return { stream, remotePeer: connection.remotePeer };
  } catch (error) {
    if (signal.aborted) throw abortError(signal);
    throw new P2pError(
      "P2P_STREAM_ENDED",
      `cannot open ${protocol} to ${String(peer)}: ${errorMessage(error)}`,
      { protocol, peer: String(peer) },
      {
        hint: "check that the peer is up, reachable, and runs a compatible Segmint version",
        cause: error,
      },
    );
  }
}

/**
 * Half-closes our side once everything is flushed; if that cannot finish (the remote is
 * gone or the signal fired) the stream is aborted so its resources are released either way.
 */
export async function finishStream(stream: Stream, signal: AbortSignal): Promise<void> {
  try {
    await stream.close({ signal });
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)));
  }
}

export function abortStream(stream: Stream, error: unknown): void {
  if (stream.status === "closed" || stream.status === "aborted" || stream.status === "reset") {
    return;
  }
  stream.abort(error instanceof Error ? error : new Error(String(error)));
}
