/**
 * The broadcaster reads its input through the media module's preparation, the same path as
 * `segmint transcode`, so a file the local self-test takes is a file the network takes.
 */
export {
  normalizeInput,
  type PreparedInput,
  prepareInput,
  probeInput,
} from "../media/prepare.ts";
