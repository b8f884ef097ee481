/**
 * Runs `pass` over and over, each run `intervalMs` after the previous one ended (never two at
 * once, so a slow chain cannot pile passes up). A pass that throws is handed to `onError` and
 * the loop goes on: background chain work must outlive a flaky RPC endpoint. `stop` waits for
 * a pass in progress, so nothing touches a store or provider after its owner closed it.
 */
export class PollLoop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Starts the loop (first pass now, or after one interval with `delayFirst`); twice is a no-op. */
  start(options: { delayFirst?: boolean } = {}): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (options.delayFirst) this.timer = setTimeout(this.loop, this.intervalMs);
    else this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private readonly loop = (): void => {
    this.running = this.pass()
      .catch(this.onError)
      .finally(() => {
        this.running = null;
        if (!this.stopped) this.timer = setTimeout(this.loop, this.intervalMs);
      });
  };
}
