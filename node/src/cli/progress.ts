import cliProgress from "cli-progress";

/** What the broadcaster and the local transcoder report as media is processed. */
export interface MediaProgress {
  segments: number;
  mediaSeconds: number;
  totalSeconds: number;
}

export interface ProgressBar {
  update(progress: MediaProgress): void;
  stop(): void;
}

/**
 * A progress bar on stderr in media seconds, shown only on a terminal and never with --json (so
 * stdout stays one JSON object). It starts on the first report, when the total is known.
 */
export function mediaProgressBar(verb: string, options: { json?: boolean }): ProgressBar {
  if (!process.stderr.isTTY || options.json) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${verb} [{bar}] {percentage}% | {value}/{total} media s | {segments} segments`,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const centi = (seconds: number) => Math.round(seconds * 100) / 100;
  let started = false;
  return {
    update({ segments, mediaSeconds, totalSeconds }) {
      // At least 1 s so a very short input never shows a 0-length (NaN %) bar.
      const total = Math.max(1, centi(totalSeconds));
      if (!started) {
        bar.start(total, 0, { segments: 0 });
        started = true;
      }
      bar.update(Math.min(total, centi(mediaSeconds)), { segments });
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

/**
 * An AbortSignal that SIGINT or SIGTERM aborts, so a long command stops its child processes
 * and cleans up instead of dying mid-write; `dispose` removes the handlers.
 */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const stop = new AbortController();
  const onSignal = () => stop.abort(new Error("interrupted"));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return {
    signal: stop.signal,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

/**
 * Runs a long media command (broadcast, transcode): Ctrl-C aborts it through `signal`, a
 * progress bar follows it on a terminal, and its summary goes to stdout as one JSON object
 * with --json or as `format`'s text otherwise.
 */
export async function runMediaCommand<Summary>(
  verb: string,
  flags: { json?: boolean },
  run: (hooks: {
    signal: AbortSignal;
    onProgress: (progress: MediaProgress) => void;
  }) => Promise<Summary>,
  format: (summary: Summary) => string,
): Promise<void> {
  const interrupt = interruptSignal();
  const bar = mediaProgressBar(verb, flags);
  try {
    const summary = await run({
      signal: interrupt.signal,
      onProgress: (progress) => bar.update(progress),
    });
    bar.stop();
    process.stdout.write(flags.json ? `${JSON.stringify(summary)}\n` : format(summary));
  } finally {
    bar.stop();
    interrupt.dispose();
  }
}
