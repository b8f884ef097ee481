/**
 * What the orchestrator did recently, kept in memory for /status: streams being served,
 * segment throughput, tickets accepted since start and the last refusals. Everything here is
 * bounded (a window of seconds, a capped map and ring), so memory stays flat over months.
 */

/** A stream that sent a segment within LIVE_WINDOW_MS. */
export interface LiveSession {
  streamId: string;
  /** The paying sender's address (lower case). */
  sender: string;
  /** Segments transcoded for this stream since it was first seen (or came back after idling). */
  segments: number;
  /** When its last segment was transcoded, Unix ms. */
  lastSeenMs: number;
}

/** A refusal or failure the node logged with a code. */
export interface RecentError {
  /** ISO 8601 time. */
  at: string;
  code: string;
  message: string;
}

export interface TicketActivity {
  /** Tickets accepted since this process started. */
  received: number;
  /** Of those, winners (each journaled before its segment was answered). */
  won: number;
  /** Sum of faceValue x winProb of the accepted tickets, token wei (rounded down). */
  expectedValueEarned: bigint;
}

/** A ticket as accepted by the validator (TicketAcceptance has these fields). */
export interface AcceptedTicket {
  won: boolean;
  /** faceValue x winProb, in 2^-256 token wei. */
  creditedScaled: bigint;
}

/**
 * A stream idle this long is no longer live: 15 segments of the usual 2 s, so a broadcaster
 * that paused on a retry or a slow upload does not flicker in and out of the list.
 */
export const LIVE_WINDOW_MS = 30_000;
/** segmentsPerSecond averages over this window: smooths 2 s segment bursts into a rate. */
export const RATE_WINDOW_SECONDS = 60;
/** Enough refusals to see a pattern on the dashboard without the document growing. */
export const RECENT_ERRORS = 20;
/**
 * Streams remembered at once. Far above what the transcode slots can serve in 30 s, so it only
 * binds when a peer floods made-up stream ids; the stalest stream is then dropped first.
 */
export const MAX_TRACKED_STREAMS = 1_000;
/** Error messages are cut here: enough for the reason, not a wall of ffmpeg stderr. */
const MAX_MESSAGE_CHARS = 300;

export class NodeActivity {
  private readonly startedAt: number;
  private readonly streams = new Map<string, LiveSession>();
  /** Segments transcoded per whole second, for the last RATE_WINDOW_SECONDS seconds. */
  private readonly perSecond: Array<{ second: number; count: number }> = [];
  private readonly errors: RecentError[] = [];
  private segmentsTotal = 0;
  private ticketsReceived = 0;
  private ticketsWon = 0;
  private creditedScaled = 0n;

  constructor(private readonly now: () => number = Date.now) {
    this.startedAt = now();
  }

  /** One segment transcoded (and paid for) on `streamId` for `sender`. */
  segmentServed(streamId: string, sender: string): void {
    const at = this.now();
    this.segmentsTotal += 1;
    const second = Math.floor(at / 1000);
    const last = this.perSecond.at(-1);
    if (last !== undefined && last.second === second) last.count += 1;
    else this.perSecond.push({ second, count: 1 });
    while ((this.perSecond[0]?.second ?? second) <= second - RATE_WINDOW_SECONDS) {
      this.perSecond.shift();
    }

    const key = `${sender}\n${streamId}`;
    const known = this.streams.get(key);
    // Re-inserted so the map stays ordered by last activity (oldest first).
    this.streams.delete(key);
    const live = known !== undefined && at - known.lastSeenMs <= LIVE_WINDOW_MS;
    this.streams.set(key, {
      streamId,
      sender,
      segments: live ? known.segments + 1 : 1,
      lastSeenMs: at,
    });
    for (const [oldest, session] of this.streams) {
      if (this.streams.size <= MAX_TRACKED_STREAMS && at - session.lastSeenMs <= LIVE_WINDOW_MS)
        break;
      this.streams.delete(oldest);
    }
  }

  ticketsAccepted(tickets: readonly AcceptedTicket[]): void {
    for (const t of tickets) {
      this.ticketsReceived += 1;
      if (t.won) this.ticketsWon += 1;
      this.creditedScaled += t.creditedScaled;
    }
  }

  /** A refusal or failure with its code; the oldest is dropped past RECENT_ERRORS. */
  error(code: string, message: string): void {
    const text =
      message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS - 1)}…` : message;
    this.errors.push({ at: new Date(this.now()).toISOString(), code, message: text });
    if (this.errors.length > RECENT_ERRORS)
      this.errors.splice(0, this.errors.length - RECENT_ERRORS);
  }

  /** Streams seen within LIVE_WINDOW_MS, most recent first. */
  liveSessions(): LiveSession[] {
    const at = this.now();
    const live: LiveSession[] = [];
    for (const session of this.streams.values()) {
      if (at - session.lastSeenMs <= LIVE_WINDOW_MS) live.push({ ...session });
    }
    return live.reverse();
  }

  throughput(): { segments: number; segmentsPerSecond: number } {
    const at = this.now();
    const second = Math.floor(at / 1000);
    let recent = 0;
    for (const bucket of this.perSecond) {
      if (bucket.second > second - RATE_WINDOW_SECONDS) recent += bucket.count;
    }
    // A node up for less than the window averages over its uptime, not over idle time it never had.
    const window = Math.min(RATE_WINDOW_SECONDS, Math.max(1, (at - this.startedAt) / 1000));
    return { segments: this.segmentsTotal, segmentsPerSecond: round3(recent / window) };
  }

  tickets(): TicketActivity {
    return {
      received: this.ticketsReceived,
      won: this.ticketsWon,
      expectedValueEarned: this.creditedScaled >> 256n,
    };
  }

  /** Most recent first, at most RECENT_ERRORS. */
  recentErrors(): RecentError[] {
    return this.errors.map((e) => ({ ...e })).reverse();
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
