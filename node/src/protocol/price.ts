import type { Profile } from "../media/interface.ts";

/**
 * Frames per second assumed for a profile that keeps the source's rate: the price rule must
 * not depend on the source, which the orchestrator has not decoded when it checks payment.
 */
export const ASSUMED_FPS = 30;

/**
 * The price rule: the most pixels a transcode request can be charged for, every rendition at
 * its full box and frame rate for the whole segment. The orchestrator refuses a request whose
 * tickets plus the sender's balance do not cover this times its price, before any work; the
 * broadcaster pays up to it so it is never refused. The orchestrator then debits the pixels it
 * really produced (fewer when the source is smaller or slower); the surplus stays as credit.
 */
export function maxChargeablePixels(
  profiles: ReadonlyArray<Pick<Profile, "width" | "height" | "fps">>,
  durationSec: number,
): bigint {
  let total = 0n;
  for (const p of profiles) {
    const frames = Math.ceil((p.fps ?? ASSUMED_FPS) * durationSec);
    total += BigInt(p.width) * BigInt(p.height) * BigInt(frames);
  }
  return total;
}
