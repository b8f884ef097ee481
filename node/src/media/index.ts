export { type Binaries, type BinaryInfo, findBinary, locateBinaries } from "./binaries.ts";
export {
  type Capabilities,
  capabilitiesSchema,
  detectCapabilities,
  getCapabilities,
  parseCapabilities,
} from "./capabilities.ts";
export { isMediaError, MediaError, type MediaErrorCode } from "./errors.ts";
export { type HlsRendition, MediaPlaylist, masterPlaylist, writeVodHls } from "./hls.ts";
export type {
  MediaInfo,
  Profile,
  Rendition,
  RenditionMeasurement,
  TranscodeRequest,
  TranscodeResult,
  VideoCodec,
} from "./interface.ts";
export { type LocalTranscodeOptions, type LocalTranscodeSummary, transcodeFile } from "./local.ts";
export { createMediaMetrics, type MediaMetrics } from "./metrics.ts";
export { defaultMediaOptions, type MediaOptions, resolveMediaOptions } from "./options.ts";
export { measureRendition, probeMedia } from "./probe.ts";
export { liveProcessCount } from "./process.ts";
export {
  loadLadder,
  outputSize,
  PRESETS,
  parseLadder,
  presetProfile,
  profileFromJson,
} from "./profiles.ts";
export { type Segment, segmentFile } from "./segmenter.ts";
export { generateTestMedia, type TestMediaSpec } from "./testsource.ts";
export { SegmentTranscoder, type TranscoderDeps } from "./transcoder.ts";
