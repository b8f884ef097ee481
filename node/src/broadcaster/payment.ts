import type { Profile } from "../media/interface.ts";

/**
 * What an orchestrator requires the sender's credit to cover before it transcodes: every
 * profile at its full box and frame rate (30 fps when unset) for the announced duration, the
 * rule of the orchestrator's pre-check (orchestrator/transcode-service.ts `maxPixels`). The
 * surplus over what it then debits stays there as credit for the next segment.
 */
export function requiredPixels(profiles: readonly Profile[], durationSeconds: number): bigint {
  let total = 0n;
  for (const p of profiles) {
    const frames = Math.ceil((p.fps ?? 30) * durationSeconds);
    total += BigInt(p.width) * BigInt(p.height) * BigInt(frames);
  }
  return total;
}

export interface SourceVideo {
  width: number;
  height: number;
  fps: number;
}
