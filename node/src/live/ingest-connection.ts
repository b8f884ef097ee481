import type { Socket } from "node:net";
import type AVPacket from "node-media-server/src/core/avpacket.js";
import Rtmp, { type RtmpStreamRequest } from "node-media-server/src/protocol/rtmp.js";
import type { Logger } from "../log/index.ts";
import { type IngestRefusal, refusal } from "./ingest-errors.ts";
import {
  FLV_AUDIO,
  FLV_DATA,
  FLV_VIDEO,
  flvHeader,
  flvTag,
  readAudioTag,
  readMetadata,
  readVideoTag,
  type StreamMetadata,
} from "./ingest-flv.ts";
import type { IngestMetrics } from "./ingest-metrics.ts";
import {
  BitrateMeter,
  checkAudioCodec,
  checkBitrate,
  checkFrameRate,
  checkResolution,
  checkVideoCodec,
  FrameRateEstimator,
  type IngestLimits,
  keyHint,
  parseStreamPath,
} from "./ingest-policy.ts";
import type { IngestStream } from "./ingest-stream.ts";
import type { LiveSourceInfo, PublishEndReason } from "./interface.ts";

/** RTMP version byte (C0); 6 would be RTMPE, which nothing here speaks. */
const RTMP_VERSION = 3;

/**
 * Largest RTMP message accepted: the protocol allows 16 MB, the library allocates whatever a
 * header claims. A 4K keyframe at 60 Mbit/s is a few MB; 8 MB bounds a hostile header.
 */
const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/** Chunk streams a publisher uses: control, commands, audio, video, data; 16 is generous. */
const MAX_CHUNK_STREAMS = 16;

/** How long a finished connection stays half-open: the publisher reads why, or closes first. */
const REFUSAL_LINGER_MS = 500;

/** Configuration tags and metadata held before the first keyframe: a few KB in practice. */
const MAX_PREROLL_BYTES = 1024 * 1024;

/** What the connection asks of the ingest that owns it. */
export interface ConnectionHost {
  limits: IngestLimits;
  log: Logger;
  metrics: IngestMetrics | null;
  /** Reserves `key` for this connection, or says why not (authorize, busy, too many). */
  admit(connection: IngestConnection, key: string): IngestRefusal | null;
  /** The first keyframe arrived and every check passed: start the stream's segmenter. */
  open(connection: IngestConnection, key: string, source: () => LiveSourceInfo): IngestStream;
  /** The socket is gone; `stream` (if any) has been told to finish. */
  closed(connection: IngestConnection): void;
}

type State = "connecting" | "preroll" | "live" | "closed";

/**
 * One TCP connection on the ingest port, from the RTMP handshake to close. node-media-server's
 * protocol engine parses the handshake, chunks and commands; this class decides: the URL and key
 * at publish, the codecs and picture size before the first keyframe, the bitrate and silence
 * afterwards. Everything before the first keyframe is held back (only configuration tags are
 * kept), so every piece the segmenter cuts starts on a keyframe.
 */
export class IngestConnection {
  readonly log: Logger;
  private readonly rtmp = new Rtmp();
  private state: State = "connecting";
  private key: string | undefined;
  private stream: IngestStream | undefined;
  private readonly connectTimer: NodeJS.Timeout;
  private readonly idleTimer: NodeJS.Timeout;
  private firstByte = true;
  private metadata: StreamMetadata = {};
  private videoConfig: Buffer | undefined;
  private audioConfig: Buffer | undefined;
  private audioCodec: string | null = null;
  private size: { width: number; height: number } | null = null;
  private prerollBytes = 0;
  private readonly bitrate = new BitrateMeter();
  private readonly frameRate = new FrameRateEstimator();
  private paused = false;
  private lastDataAt = Date.now();
  private unpublished = false;
  /** Why the ingest ended this connection (a refusal, or the broadcaster's close); undefined: the publisher did. */
  private endedBy: { refusal: IngestRefusal } | { close: string } | undefined;

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly host: ConnectionHost,
  ) {
    this.log = host.log.child({
      connection: id,
      remote: `${socket.remoteAddress}:${socket.remotePort}`,
    });
    const { limits } = host;
    this.connectTimer = setTimeout(() => {
      this.refuse(
        this.state === "connecting"
          ? refusal(
              "INGEST_NOT_PUBLISHING",
              `no publish request within ${limits.connectSeconds} s of connecting`,
            )
          : refusal(
              "INGEST_NO_VIDEO",
              `no H.264 keyframe within ${limits.connectSeconds} s of connecting; send video with a keyframe interval of a few seconds`,
            ),
      );
    }, limits.connectSeconds * 1000);
    this.idleTimer = setTimeout(() => {
      // Silence while we are the ones not reading (ffmpeg behind) is not the publisher's.
      if (this.paused) {
        this.idleTimer.refresh();
        return;
      }
      this.refuse(
        refusal("INGEST_IDLE", `nothing received for ${limits.idleSeconds} s`, {
          idleSeconds: limits.idleSeconds,
        }),
      );
    }, limits.idleSeconds * 1000);

    this.guardAllocation();
    this.rtmp.onOutputCallback = (bytes) => {
      if (!this.socket.destroyed) this.socket.write(bytes);
    };
    this.rtmp.onConnectCallback = (request) => this.onStreamRequest(request);
    this.rtmp.onPushCallback = () => this.onPublish();
    this.rtmp.onPlayCallback = () =>
      this.refuse(
        refusal("INGEST_NOT_PUBLISHING", "this port takes publishers only; watch over HLS"),
      );
    this.rtmp.onPacketCallback = (packet) => this.onPacket(packet);
    this.rtmp.onDeleteStream = () => this.onUnpublish();

    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error) => this.log.debug({ err: error }, "ingest socket error"));
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve;
    });
    socket.on("close", () => this.onSocketClose());
  }

  /** Settles once the socket is closed and the ingest has forgotten the connection. */
  readonly closed: Promise<void>;
  private markClosed: () => void = () => {};

  get streamKey(): string | undefined {
    return this.key;
  }

  /** Ends the connection with `reason` logged (refusals, PublishedStream.close, shutdown). */
  refuse(reason: IngestRefusal): void {
    if (this.state === "closed" || this.endedBy || this.unpublished) return;
    this.endedBy = { refusal: reason };
    this.host.metrics?.refused(reason.code);
    const fields = { code: reason.code, reason: reason.reason, ...(reason.details ?? {}) };
    const key = this.key === undefined ? {} : { key: keyHint(this.key) };
    if (this.stream) this.log.warn({ ...key, ...fields }, "live stream ended by the ingest");
    else this.log.warn({ ...key, ...fields }, "publisher refused");
    this.hangUp(reason.reason);
  }

  /**
   * After a publish command the client is told why before the connection drops (ffmpeg prints
   * "Server error: ..."; OBS logs it). Best effort.
   */
  private tellPublisher(reason: string): boolean {
    if (this.request === undefined || this.socket.destroyed) return false;
    try {
      this.rtmp.sendStatusMessage(
        this.rtmp.streamId,
        "error",
        "NetStream.Publish.Rejected",
        reason,
      );
      return true;
    } catch {
      // Nothing more to say to a client whose connection is going anyway.
      return false;
    }
  }

  /** Shutdown or a consumer's close(): ends the connection without calling it a refusal. */
  disconnect(reason: string, options: { linger: boolean } = { linger: true }): void {
    if (this.state === "closed" || this.endedBy) return;
    this.endedBy = { close: reason };
    this.log.info({ reason }, "publisher disconnected by the broadcaster");
    if (options.linger) {
      this.hangUp(reason);
    } else {
      this.stream?.finish(this.endedAs());
      this.socket.destroy();
    }
  }

  /** Milliseconds since the publisher last sent anything (0 while we are not reading). */
  silentForMs(): number {
    return this.paused ? 0 : Date.now() - this.lastDataAt;
  }

  /**
   * A new connection on the same key replaces this silent one (the publisher reconnected before
   * the idle limit noticed its old connection was dead): the stream ends as "dropped", as if the
   * old connection had closed, so the broadcaster can carry on with the new one.
   */
  supersede(): void {
    if (this.state === "closed" || this.endedBy) return;
    this.log.info(
      { silentMs: this.silentForMs() },
      "publisher replaced by a new connection on the same key",
    );
    this.stream?.finish("dropped");
    this.socket.destroy();
  }

  /** Ends the stream now and the connection once the publisher has been told why. */
  private hangUp(reason: string): void {
    this.stream?.finish(this.endedAs());
    if (this.tellPublisher(reason)) {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), REFUSAL_LINGER_MS).unref();
    } else {
      this.socket.destroy();
    }
  }

  /**
   * node-media-server sizes each message's buffer from its header and keeps one per chunk
   * stream; both are capped here so a few bytes of garbage cannot make it allocate gigabytes.
   */
  private guardAllocation(): void {
    const rtmp = this.rtmp;
    const allocate = rtmp.packetAlloc.bind(rtmp);
    rtmp.packetAlloc = () => {
      const length = rtmp.parserPacket.header.length;
      if (length > MAX_MESSAGE_BYTES || rtmp.inPackets.size > MAX_CHUNK_STREAMS) {
        throw new RangeError(`RTMP message of ${length} bytes or too many chunk streams`);
      }
      allocate();
    };
  }

  private onData(chunk: Buffer): void {
    if (this.state === "closed" || this.endedBy) return;
    this.host.metrics?.bytesReceived(chunk.length);
    this.lastDataAt = Date.now();
    this.idleTimer.refresh();
    if (this.firstByte) {
      this.firstByte = false;
      if (chunk[0] !== RTMP_VERSION) {
        this.refuse(
          refusal("INGEST_PROTOCOL_ERROR", "not an RTMP handshake", {
            firstByte: chunk[0] ?? null,
          }),
        );
        return;
      }
    }
    let problem: string | null;
    try {
      problem = this.rtmp.parserData(chunk);
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    if (problem !== null) {
      this.refuse(
        refusal("INGEST_PROTOCOL_ERROR", "malformed RTMP", { problem: problem.slice(0, 200) }),
      );
    }
  }

  private request: RtmpStreamRequest | undefined;

  private onStreamRequest(request: RtmpStreamRequest): void {
    this.request = request;
  }

  private onPublish(): void {
    if (this.state !== "connecting" || this.request === undefined) {
      this.refuse(refusal("INGEST_PROTOCOL_ERROR", "a second publish on one connection"));
      return;
    }
    const parsed = parseStreamPath(this.request.app, this.request.name);
    if ("refusal" in parsed) {
      this.refuse(parsed.refusal);
      return;
    }
    const refused = this.host.admit(this, parsed.key);
    if (refused) {
      this.key = parsed.key;
      this.refuse(refused);
      return;
    }
    this.key = parsed.key;
    this.state = "preroll";
    this.log.info({ key: keyHint(parsed.key) }, "publisher connected");
  }

  private onPacket(packet: AVPacket): void {
    if (this.state !== "preroll" && this.state !== "live") {
      if (this.state === "connecting") {
        this.refuse(refusal("INGEST_PROTOCOL_ERROR", "media before a publish request"));
      }
      return;
    }
    // The library reuses its buffer for the next message: copy what we keep.
    const body = packet.data.subarray(0, packet.size);
    if (packet.codec_type === FLV_DATA) {
      if (this.state === "preroll") {
        const metadata = readMetadata(body);
        if (metadata) this.metadata = metadata;
      }
      return;
    }
    if (packet.codec_type === FLV_AUDIO) this.onAudio(packet.dts, body);
    else if (packet.codec_type === FLV_VIDEO) this.onVideo(packet.dts, body);
  }

  private onAudio(timestampMs: number, body: Buffer): void {
    if (body.length === 0) return;
    const audio = readAudioTag(body);
    if (this.audioCodec === null) {
      const refused = checkAudioCodec(audio.codec);
      if (refused) {
        this.refuse(refused);
        return;
      }
      this.audioCodec = audio.codec;
    }
    if (this.state === "preroll") {
      if (audio.config) this.keepPreroll("audio", Buffer.from(body));
      return;
    }
    this.send(flvTag(FLV_AUDIO, timestampMs, body));
  }

  private onVideo(timestampMs: number, body: Buffer): void {
    if (body.length === 0) return;
    const video = readVideoTag(body);
    const refusedCodec = checkVideoCodec(video.codec);
    if (refusedCodec) {
      this.refuse(refusedCodec);
      return;
    }
    if (video.config) {
      if (video.size) {
        const refusedSize = checkResolution(video.size, this.host.limits);
        if (refusedSize) {
          this.refuse(refusedSize);
          return;
        }
        this.size = video.size;
      }
      if (this.state === "preroll") {
        this.keepPreroll("video", Buffer.from(body));
        return;
      }
    }
    const estimate = this.frameRate.add(timestampMs);
    if (this.state === "preroll") {
      if (!video.keyframe) return;
      if (!this.goLive(timestampMs)) return;
    } else if (!video.config) {
      const fps = this.metadata.frameRate === undefined ? estimate : null;
      if (fps !== null) {
        const refusedRate = checkFrameRate(fps, this.host.limits);
        if (refusedRate) {
          this.refuse(refusedRate);
          return;
        }
      }
      const rate = this.bitrate.add(timestampMs, body.length);
      if (rate !== null) {
        const refusedRate = checkBitrate(rate, this.host.limits);
        if (refusedRate) {
          this.refuse(refusedRate);
          return;
        }
      }
    }
    if (video.keyframe) this.stream?.keyframe(timestampMs, Date.now());
    this.send(flvTag(FLV_VIDEO, timestampMs, body));
  }

  private keepPreroll(kind: "audio" | "video", body: Buffer): void {
    this.prerollBytes += body.length;
    if (this.prerollBytes > MAX_PREROLL_BYTES) {
      this.refuse(
        refusal("INGEST_PROTOCOL_ERROR", "configuration data too large before the first keyframe"),
      );
      return;
    }
    if (kind === "audio") this.audioConfig = body;
    else this.videoConfig = body;
  }

  /** Checks what is known at the first keyframe and opens the stream; false when refused. */
  private goLive(timestampMs: number): boolean {
    const key = this.key;
    if (key === undefined || this.videoConfig === undefined) {
      this.refuse(
        refusal("INGEST_NO_VIDEO", "an H.264 keyframe arrived before its configuration (SPS/PPS)"),
      );
      return false;
    }
    const size = this.size ?? {
      width: this.metadata.width ?? 0,
      height: this.metadata.height ?? 0,
    };
    const fps = this.metadata.frameRate ?? 0;
    if (fps > 0) {
      const refused = checkFrameRate(fps, this.host.limits);
      if (refused) {
        this.refuse(refused);
        return false;
      }
    }
    const hasAudio = this.audioCodec !== null || this.metadata.audioCodec !== undefined;
    const source: LiveSourceInfo = {
      videoCodec: "h264",
      width: size.width,
      height: size.height,
      fps: Math.round(fps * 1000) / 1000,
      audioCodec: hasAudio ? (this.audioCodec ?? "aac") : null,
    };
    this.clearConnectTimer();
    this.state = "live";
    // Without a declared rate, the one measured from the first frames (known within a second,
    // before the first piece is cut).
    const stream = this.host.open(this, key, () =>
      source.fps > 0 ? source : { ...source, fps: this.frameRate.estimate() ?? 0 },
    );
    this.stream = stream;
    this.log.info({ key: keyHint(key), ...source }, "live stream started");
    this.send(flvHeader(hasAudio));
    this.send(flvTag(FLV_VIDEO, timestampMs, this.videoConfig));
    if (hasAudio && this.audioConfig) this.send(flvTag(FLV_AUDIO, timestampMs, this.audioConfig));
    this.videoConfig = undefined;
    this.audioConfig = undefined;
    return true;
  }

  private endedAs(): PublishEndReason {
    if (this.endedBy === undefined) return this.unpublished ? "unpublished" : "dropped";
    return "refusal" in this.endedBy && this.endedBy.refusal.code === "INGEST_IDLE"
      ? "stalled"
      : "closed";
  }

  private clearConnectTimer(): void {
    clearTimeout(this.connectTimer);
  }

  private send(bytes: Buffer): void {
    const stream = this.stream;
    if (!stream) return;
    if (!stream.write(bytes) && !this.paused) {
      // ffmpeg is behind: stop reading the socket so TCP slows the publisher.
      this.paused = true;
      this.socket.pause();
      stream.onDrain(() => {
        this.paused = false;
        this.idleTimer.refresh();
        if (!this.socket.destroyed) this.socket.resume();
      });
    }
  }

  /** The publisher stopped on purpose (deleteStream): the stream is over, not interrupted. */
  private onUnpublish(): void {
    if (this.state === "closed") return;
    this.unpublished = true;
    this.log.info("publisher unpublished");
    this.stream?.finish(this.endedAs());
    // The publisher closes its side next; one that does not is cut off shortly after.
    this.socket.end();
    setTimeout(() => this.socket.destroy(), REFUSAL_LINGER_MS).unref();
  }

  private onSocketClose(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    clearTimeout(this.connectTimer);
    clearTimeout(this.idleTimer);
    this.stream?.finish(this.endedAs());
    if (this.stream && !this.endedBy) this.log.info("publisher disconnected");
    this.host.closed(this);
    this.markClosed();
  }
}
