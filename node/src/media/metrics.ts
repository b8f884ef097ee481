import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/**
 * Hook points the media subsystem calls; the orchestrator wires them to its own registry.
 * Kept as a small interface (not prom-client objects) so the media module has no opinion on
 * metric names the orchestrator already owns; `createMediaMetrics` is the default adapter.
 */
export interface MediaMetrics {
  transcodeStarted(): void;
  transcodeFinished(event: {
    result: string;
    wallSeconds: number;
    mediaSeconds: number;
    pixels: number;
    renditions: number;
  }): void;
  queueChanged(waiting: number, running: number): void;
}

// A 2 s 1080p segment to 3 renditions takes ~1 s on 2 cores (docs/performance.md).
const SECONDS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30];

export function createMediaMetrics(registry: Registry): MediaMetrics {
  const registers = [registry];
  const runs = new Counter({
    name: "segmint_media_transcodes_total",
    help: "Segment transcodes by result (ok or an error code)",
    labelNames: ["result"],
    registers,
  });
  const seconds = new Histogram({
    name: "segmint_media_ffmpeg_seconds",
    help: "Wall time of one segment transcode including probe and measurement",
    buckets: SECONDS_BUCKETS,
    registers,
  });
  const pixels = new Counter({
    name: "segmint_media_output_pixels_total",
    help: "Pixels produced (width x height x frames, summed over renditions)",
    registers,
  });
  const mediaSeconds = new Counter({
    name: "segmint_media_input_seconds_total",
    help: "Media seconds of input transcoded",
    registers,
  });
  const running = new Gauge({
    name: "segmint_media_running_transcodes",
    help: "ffmpeg transcodes running now",
    registers,
  });
  const waiting = new Gauge({
    name: "segmint_media_waiting_transcodes",
    help: "Transcodes waiting for a free slot",
    registers,
  });
  return {
    transcodeStarted() {},
    transcodeFinished(event) {
      runs.inc({ result: event.result });
      seconds.observe(event.wallSeconds);
      if (event.result === "ok") {
        pixels.inc(event.pixels);
        mediaSeconds.inc(event.mediaSeconds);
      }
    },
    queueChanged(waitingNow, runningNow) {
      waiting.set(waitingNow);
      running.set(runningNow);
    },
  };
}
