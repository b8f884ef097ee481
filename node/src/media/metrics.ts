import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/**
 * Hook points the media subsystem calls. The media module stays a library (the CLI's local
 * transcode and tests drive it without a registry, and a test watches the queue through
 * queueChanged), so it reports events through this port; `createMediaMetrics` turns them into
 * Prometheus metrics on the role's registry.
 */
export interface MediaMetrics {
  /** An ffmpeg process is about to start for a segment (after probing and a free slot). */
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
  const processes = new Counter({
    name: "segmint_media_ffmpeg_processes_total",
    help: "ffmpeg processes started for segments (input refused at the probe never gets one)",
    registers,
  });
  const seconds = new Histogram({
    name: "segmint_media_transcode_seconds",
    help: "Wall time of one segment transcode: probe, wait for a slot, ffmpeg and measurement",
    buckets: SECONDS_BUCKETS,
    registers,
  });
  const pixels = new Counter({
    name: "segmint_media_output_pixels_total",
    help: "Pixels produced (width x height x frames, summed over renditions)",
    registers,
  });
  const renditions = new Counter({
    name: "segmint_media_renditions_total",
    help: "Renditions produced",
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
    transcodeStarted() {
      processes.inc();
    },
    transcodeFinished(event) {
      runs.inc({ result: event.result });
      seconds.observe(event.wallSeconds);
      if (event.result === "ok") {
        pixels.inc(event.pixels);
        renditions.inc(event.renditions);
        mediaSeconds.inc(event.mediaSeconds);
      }
    },
    queueChanged(waitingNow, runningNow) {
      waiting.set(waitingNow);
      running.set(runningNow);
    },
  };
}
