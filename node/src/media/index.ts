export { type Binaries, type BinaryInfo, findBinary, locateBinaries } from "./binaries.ts";
export {
  type Capabilities,
  capabilitiesSchema,
  detectCapabilities,
  getCapabilities,
  parseCapabilities,
} from "./capabilities.ts";
export { isMediaError, MediaError, type MediaErrorCode, stderrTail } from "./errors.ts";
export {
  codecsString,
  type HlsRendition,
  MediaPlaylist,
  masterPlaylist,
  writeVodHls,
} from "./hls.ts";
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
export {
  normalizeInput,
  normalizeReason,
  type PreparedInput,
  type PrepareOptions,
  type ProbedInput,
  prepareInput,
  probeInput,
} from "./prepare.ts";
export { measureRendition, probeMedia } from "./probe.ts";
export { liveProcessCount, runBinary } from "./process.ts";
export {
  loadLadder,
  outputFps,
  outputSize,
  PRESETS,
  parseLadder,
  presetProfile,
  profileFromJson,
} from "./profiles.ts";
export { type Segment, segmentFile } from "./segmenter.ts";
export { generateTestMedia, type TestMediaSpec } from "./testsource.ts";
export { SegmentTranscoder, type TranscoderDeps } from "./transcoder.ts";
export { checkInputSize, fileLimits, segmentLimits, validateMedia } from "./validate.ts";
