import { z } from "zod";
import type { Profile } from "../media/interface.ts";

/**
 * A rendition profile on the wire. The protocol itself only needs a name the answer refers
 * back to; the other fields are the media layer's profile JSON (profileJsonSchema), which the
 * orchestrator checks with the media layer. A bare `{ name }` names one of its presets.
 */
export const WireProfileSchema = z
  .object({ name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "expected a profile name") })
  .catchall(z.unknown());
export type WireProfile = z.infer<typeof WireProfileSchema>;

/** A resolved media profile in the JSON form the orchestrator reads back with the media layer. */
export function wireProfile(profile: Profile): WireProfile {
  return {
    name: profile.name,
    width: profile.width,
    height: profile.height,
    bitrate: profile.bitrateBps,
    ...(profile.fps === undefined ? {} : { fps: profile.fps }),
    codec: profile.codec,
    gop: profile.gopSeconds,
    preset: profile.preset,
    ...(profile.crf === undefined ? {} : { crf: profile.crf }),
    allowUpscale: profile.allowUpscale,
  };
}
