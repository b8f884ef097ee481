import type { OrchestratorSource } from "../broadcaster/interface.ts";
import type { OrchestratorLists, UnavailablePins } from "../broadcaster/selection.ts";
import type { Logger } from "../log/index.ts";

/** What a stream reads of the daemon's allow and deny lists (`--orchestrator`). */
export type PinLists = Pick<OrchestratorLists, "pins" | "unavailable">;

/**
 * The pinned orchestrators one live stream could not use. The stream's dispatcher chooses
 * through `watch`, so the pins it never chose are known: not found (never discovered) or
 * refused (discovered, never chosen: no answer, too expensive, over a ticket cap). A pin left
 * unchosen only because the stream already has all the orchestrators it asks for is not
 * refused, merely not needed, and is not reported.
 */
export class StreamPins {
  private readonly chosen = new Set<string>();
  private warned = false;

  constructor(
    private readonly lists: PinLists | undefined,
    /** How many orchestrators the stream works with at once. */
    private readonly wanted: number,
    private readonly log: Logger,
  ) {}

  /** `source` as the dispatcher sees it: every orchestrator it hands out is recorded. */
  watch(source: OrchestratorSource): OrchestratorSource {
    return {
      choose: async (count, exclude) => {
        const handles = await source.choose(count, exclude);
        for (const handle of handles) this.chosen.add(handle.address);
        return handles;
      },
    };
  }

  /** The pins this stream cannot use, as /status shows them; null when none are pinned. */
  status(): UnavailablePins | null {
    if (this.lists === undefined || this.lists.pins === 0) return null;
    const pins = this.lists.unavailable(this.chosen);
    return {
      notFound: pins.notFound,
      refused: this.chosen.size >= this.wanted ? [] : pins.refused,
    };
  }

  /**
   * One warning line per stream naming the pins it could not use, once its first segment has
   * settled (the dispatcher has chosen by then); nothing when every pin is in use.
   */
  warnOnce(): void {
    if (this.warned) return;
    this.warned = true;
    const pins = this.status();
    if (pins === null || (pins.notFound.length === 0 && pins.refused.length === 0)) return;
    const parts = [
      ...(pins.notFound.length > 0 ? [`not found: ${pins.notFound.join(", ")}`] : []),
      ...(pins.refused.length > 0 ? [`refused: ${pins.refused.join(", ")}`] : []),
    ];
    this.log.warn(
      { notFound: pins.notFound, refused: pins.refused },
      `pinned orchestrators (--orchestrator) this stream cannot use; ${parts.join("; ")}`,
    );
  }
}
