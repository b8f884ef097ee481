/** Keyframe arrivals kept for matching pieces to wall clock: minutes of 1 s GOPs. */
const MAX_KEYFRAMES = 512;

/**
 * When each piece's first frame arrived. The connection records every keyframe's stream
 * timestamp and arrival time as it passes it to ffmpeg; ffmpeg's segment list gives each piece's
 * start in its own timeline (zero-based, and on the presentation time, which B-frames shift).
 * The first piece starts on the first keyframe written, which fixes the offset between the two;
 * every later piece starts on the keyframe nearest its start (GOPs are hundreds of ms apart,
 * rounding is a millisecond).
 */
export class KeyframeClock {
  private readonly keyframes: Array<{ ms: number; wallMs: number }> = [];
  /** Stream-time ms minus segment-list ms. */
  private offsetMs: number | undefined;

  keyframe(timestampMs: number, wallMs: number): void {
    this.keyframes.push({ ms: timestampMs, wallMs });
    if (this.keyframes.length > MAX_KEYFRAMES) this.keyframes.shift();
  }

  /** The arrival time of the keyframe a piece starting at `startSeconds` begins with. */
  pieceStarted(startSeconds: number): number | undefined {
    const startMs = startSeconds * 1000;
    if (this.offsetMs === undefined) {
      const first = this.keyframes[0];
      if (first === undefined) return undefined;
      this.offsetMs = first.ms - startMs;
    }
    const target = startMs + this.offsetMs;
    let best = 0;
    for (let i = 1; i < this.keyframes.length; i++) {
      const candidate = this.keyframes[i];
      const current = this.keyframes[best];
      if (!candidate || !current) break;
      if (Math.abs(candidate.ms - target) < Math.abs(current.ms - target)) best = i;
      else if (candidate.ms > target) break;
    }
    const match = this.keyframes[best];
    // Earlier keyframes can never start a later piece.
    this.keyframes.splice(0, best);
    return match?.wallMs;
  }

  /** Keyframes held (bounded). */
  get size(): number {
    return this.keyframes.length;
  }
}
