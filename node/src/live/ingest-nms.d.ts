/**
 * The few parts of node-media-server the ingest uses: its RTMP protocol engine (handshake,
 * chunk stream, AMF commands) without its server, global context or store, and its H.264 SPS
 * and AMF0 readers. The package ships JavaScript without types; these declare what we call.
 */

declare module "node-media-server/src/core/avpacket.js" {
  /** One RTMP audio, video or data message; `data` may be a reused buffer longer than `size`. */
  export default class AVPacket {
    codec_id: number;
    /** 8 audio, 9 video, 18 data (the FLV tag types). */
    codec_type: number;
    flags: number;
    pts: number;
    dts: number;
    size: number;
    data: Buffer;
  }
}

declare module "node-media-server/src/protocol/rtmp.js" {
  import type AVPacket from "node-media-server/src/core/avpacket.js";

  export interface RtmpStreamRequest {
    app: string;
    name: string;
    host: string;
    query: Record<string, unknown>;
  }

  interface RtmpPacketHeader {
    length: number;
    type: number;
    stream_id: number;
  }

  /** One connection's protocol state: feed it bytes, it calls back with commands and media. */
  export default class Rtmp {
    onConnectCallback: (request: RtmpStreamRequest) => void;
    onPlayCallback: () => void;
    onPushCallback: () => void;
    onPacketCallback: (packet: AVPacket) => void;
    onOutputCallback: (bytes: Buffer) => void;
    /** Returns an error text, or null; may also throw on malformed input. */
    parserData(bytes: Buffer): string | null;
    /** Sizes the payload buffer of the message being read from its header. */
    packetAlloc(): void;
    parserPacket: { header: RtmpPacketHeader };
    inPackets: Map<number, unknown>;
    streamId: number;
    /** The publisher's deleteStream command (sent after FCUnpublish when it stops cleanly). */
    onDeleteStream(message: unknown): void;
    sendStatusMessage(streamId: number, level: string, code: string, description: string): void;
  }
}

declare module "node-media-server/src/protocol/sps_info.js" {
  /** Picture size from an H.264 SPS NAL unit (header byte included); null when unreadable. */
  export function parseH264Sps(sps: Buffer): { width: number; height: number } | null;
}

declare module "node-media-server/src/protocol/amf.js" {
  /** An AMF0 data message (`@setDataFrame`, `onMetaData`, {...}) as a plain object. */
  export function decodeAmf0Data(bytes: Buffer): Record<string, unknown>;
  /** The inverse, used by the tests to build what publishers send. */
  export function encodeAmf0Data(message: Record<string, unknown>): Buffer;
}

declare module "node-media-server/src/core/logger.js" {
  /** The library's process-wide logger, which prints to stdout. */
  const logger: { log(message: string, level?: string): void };
  export default logger;
}
