import type { Capacity } from "./messages.ts";

/**
 * Transcode sessions this orchestrator runs at once. A slot is taken as soon as a request's
 * header is accepted, before its body is read, so a peer that stalls mid-upload holds one
 * slot only until the stall timer frees it.
 */
export class Slots {
  private used = 0;

  constructor(readonly total: number) {
    if (!Number.isInteger(total) || total < 0) throw new RangeError(`bad slot count ${total}`);
  }

  /** A release function, or null when every slot is taken. Releasing twice is harmless. */
  tryAcquire(): (() => void) | null {
    if (this.used >= this.total) return null;
    this.used += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= 1;
    };
  }

  capacity(): Capacity {
    return { total: this.total, free: this.total - this.used };
  }
}
