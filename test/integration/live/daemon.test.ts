import type { ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pushRtmp } from "../../../node/src/devnet/live.ts";
import { devnetSettings, type Market, startMarket } from "../../../node/src/devnet/market.ts";
import { stopProcess } from "../../../node/src/devnet/processes.ts";
import {
  type BroadcasterDaemon,
  playbackId,
  startBroadcasterDaemon,
} from "../../../node/src/live/index.ts";
import { silentLogger } from "../../../node/src/log/index.ts";
import { measureRendition } from "../../../node/src/media/probe.ts";
import { outputSize, presetProfile } from "../../../node/src/media/profiles.ts";
import {
  fetchBytes,
  fetchText,
  type ListedSegment,
  parseMediaPlaylist,
  readPlaylist,
  sleep,
  waitFor,
} from "../../helpers/live-hls.ts";
import { createMediaWorkspace, type MediaWorkspace, playHlsVariant } from "../../helpers/media.ts";

const KEY = "cam1";
const CLIP_SECONDS = 36;
const SOURCE = { width: 640, height: 360 };
const PROFILES = ["360p", "240p"];
const RENDITIONS = ["source", ...PROFILES];
const expectedSize = (name: string) =>
  name === "source" ? SOURCE : outputSize(SOURCE, presetProfile(name));

describe("segmint broadcaster: RTMP in, live HLS out through the paid network", () => {
  let ws: MediaWorkspace;
  let market: Market;
  let daemon: BroadcasterDaemon;
  let outDir: string;
  let clip: string;
  let publisher: ChildProcess | undefined;

  beforeAll(async () => {
    ws = await createMediaWorkspace();
    clip = await ws.clip("live-360p30.ts", {
      width: SOURCE.width,
      height: SOURCE.height,
      fps: 30,
      durationSeconds: CLIP_SECONDS,
      preset: "veryfast",
    });
    outDir = await mkdtemp(join(tmpdir(), "segmint-live-out-"));
    // Three orchestrators, two used at once: one is killed and one frozen mid-stream.
    market = await startMarket({ orchestrators: 3, chainPort: 0, log: silentLogger() });
    daemon = await startBroadcasterDaemon({
      rpc: market.chainUrl,
      deployment: market.deploymentFile,
      privateKey: market.broadcaster.privateKey,
      profiles: PROFILES.join(","),
      deposit: devnetSettings.deposit,
      reserve: devnetSettings.reserve,
      orchestrators: 2,
      listen: ["/ip4/127.0.0.1/tcp/0"],
      bootstrap: market.orchestrators.flatMap((o) => o.multiaddrs.slice(0, 1)),
      rtmp: "127.0.0.1:0",
      http: "127.0.0.1:0",
      outDir,
      streamKeys: [KEY],
    });
  });

  afterAll(async () => {
    if (publisher !== undefined) await stopProcess(publisher, 3_000);
    for (const o of market?.orchestrators ?? []) o.child.kill("SIGCONT");
    await daemon?.stop();
    await market?.stop();
    await ws?.cleanup();
    if (outDir !== undefined) await rm(outDir, { recursive: true, force: true });
  });

  it("keeps every playlist moving through a killed and a frozen orchestrator, ends it, records it, and the payments add up", async () => {
    const fundsBefore = await market.broadcasterFunds();
    const base = `${daemon.httpUrl}/live/${playbackId(KEY)}`;
    publisher = pushRtmp(ws.ffmpegPath, clip, `${daemon.rtmpUrl}/${KEY}`, { loop: false });

    // The master lists the source and every profile.
    const master = await waitFor("the master playlist", async () => {
      const { status, text } = await fetchText(`${base}/index.m3u8`);
      return status === 200 ? text : undefined;
    });
    for (const name of RENDITIONS) expect(master).toContain(`${name}/index.m3u8`);

    // Read every rendition as a player would until the stream ends, checking each new segment.
    const seen = new Map<string, Map<number, ListedSegment>>(RENDITIONS.map((n) => [n, new Map()]));
    const firstSequenceAfterFault = new Map<string, number>();
    const maxMediaSequence = new Map<string, number>();
    let faultAt: number | undefined;
    const frozen: string[] = [];
    const ended = new Set<string>();
    const deadline = Date.now() + 120_000;
    while (ended.size < RENDITIONS.length && Date.now() < deadline) {
      for (const name of RENDITIONS) {
        if (ended.has(name)) continue;
        const view = await readPlaylist(`${base}/${name}/index.m3u8`);
        if (view === null) continue;
        maxMediaSequence.set(name, Math.max(maxMediaSequence.get(name) ?? 0, view.mediaSequence));
        const known = seen.get(name) ?? new Map<number, ListedSegment>();
        for (const segment of view.segments) {
          if (known.has(segment.sequence)) continue;
          known.set(segment.sequence, segment);
          // Every listed segment plays on its own, at its rendition's size.
          const bytes = await fetchBytes(`${base}/${name}/${segment.uri}`);
          const measured = await measureRendition(Buffer.from(bytes), {
            ffmpegPath: ws.ffmpegPath,
          });
          expect(measured.frames, `${name} ${segment.uri}`).toBeGreaterThan(0);
          expect({ width: measured.width, height: measured.height }).toEqual(expectedSize(name));
          expect(segment.programDateTimeMs, `${name} ${segment.uri} PDT`).not.toBeNull();
          if (faultAt !== undefined && (segment.programDateTimeMs ?? 0) > faultAt) {
            if (!firstSequenceAfterFault.has(name))
              firstSequenceAfterFault.set(name, segment.sequence);
          }
        }
        if (view.ended) ended.add(name);
      }
      // Once the network has delivered a few segments, kill one orchestrator in use and
      // freeze the other.
      if (faultAt === undefined && (daemon.status().streams[0]?.segments.out ?? 0) >= 3) {
        const used = Object.keys(daemon.status().streams[0]?.orchestrators ?? {});
        const inUse = market.orchestrators.filter((o) =>
          used.some((a) => a.toLowerCase() === o.address.toLowerCase()),
        );
        if (inUse.length >= 1) {
          faultAt = Date.now();
          inUse[0]?.child.kill("SIGKILL");
          const second = inUse[1];
          if (second !== undefined) {
            second.child.kill("SIGSTOP");
            frozen.push(second.address);
          }
        }
      }
      await sleep(400);
    }
    expect(faultAt, "the stream reached the fault").toBeDefined();
    expect([...ended].sort()).toEqual([...RENDITIONS].sort());

    // The sliding window moved in the source and in the bottom rendition (the top one may be
    // shed while the machine is loaded), and program date-times rise along each rendition.
    for (const name of ["source", PROFILES.at(-1) ?? ""]) {
      expect(maxMediaSequence.get(name) ?? 0, name).toBeGreaterThan(0);
    }
    for (const name of RENDITIONS) {
      expect(seen.get(name)?.size ?? 0, name).toBeGreaterThan(0);
      const listed = [...(seen.get(name)?.values() ?? [])].sort((a, b) => a.sequence - b.sequence);
      for (let i = 1; i < listed.length; i++) {
        expect(listed[i]?.programDateTimeMs ?? 0).toBeGreaterThan(
          listed[i - 1]?.programDateTimeMs ?? 0,
        );
      }
    }
    // The source never loses a segment; the transcoded renditions kept coming after the fault.
    const stats = daemon.status().streams[0];
    expect(stats?.segments.in).toBe(seen.get("source")?.size);
    expect(
      firstSequenceAfterFault.has(PROFILES.at(-1) ?? ""),
      "bottom rendition after the fault",
    ).toBe(true);

    // The recording holds the whole stream; every lost segment is a gap in the renditions.
    const recording = stats?.recording ?? "";
    const sourcePlaylist = parseMediaPlaylist(
      await readFile(join(dirname(recording), "source", "index.m3u8"), "utf8"),
    );
    expect(sourcePlaylist.ended).toBe(true);
    expect(sourcePlaylist.segments).toHaveLength(stats?.segments.in ?? -1);
    const recordedSeconds = sourcePlaylist.segments.reduce((s, x) => s + x.durationSeconds, 0);
    expect(recordedSeconds).toBeGreaterThan(CLIP_SECONDS - 1);
    expect(recordedSeconds).toBeLessThan(CLIP_SECONDS + 1);
    const played = await playHlsVariant(
      ws.ffmpegPath,
      join(dirname(recording), "source", "index.m3u8"),
    );
    expect(played.errors).toBe("");
    for (const name of PROFILES) {
      const recorded = parseMediaPlaylist(
        await readFile(join(dirname(recording), name, "index.m3u8"), "utf8"),
      );
      expect(recorded.ended).toBe(true);
      // The bottom rendition is never shed: only lost segments are missing from it.
      if (name === PROFILES.at(-1)) {
        expect(recorded.segments.length + (stats?.segments.lost ?? 0)).toBe(stats?.segments.in);
      } else {
        expect(recorded.segments.length).toBeLessThanOrEqual(stats?.segments.in ?? 0);
      }
    }

    // Every live subsystem reports on the daemon's /metrics.
    const metrics = await fetchText(`${daemon.httpUrl}/metrics`);
    expect(metrics.text).toContain(`segmint_live_segments_in_total{stream="${playbackId(KEY)}"}`);
    expect(metrics.text).not.toContain(KEY);
    expect(metrics.text).toMatch(/^segmint_live_availability_seconds_count/m);
    expect(metrics.text).toMatch(/^segmint_ingest_/m);

    // Money: the frozen node wakes up and redeems what it won; paid equals what the deposit lost.
    for (const o of market.orchestrators) o.child.kill("SIGCONT");
    const alive = market.orchestrators.filter(
      (o) => o.child.exitCode === null && o.child.signalCode === null,
    );
    expect(alive).toHaveLength(2);
    const payments = await settleAlive(
      market,
      fundsBefore,
      alive.map((o) => o.address),
    );
    expect(BigInt(stats?.spend ?? "0")).toBeGreaterThan(0n);
    expect(payments.paid).toBe(payments.spent);
  });

  it("continues the same stream, with a discontinuity, when a dropped publisher comes back within the grace", async () => {
    const base = `${daemon.httpUrl}/live/${playbackId(KEY)}`;
    const url = `${daemon.rtmpUrl}/${KEY}`;
    const source = async () => readPlaylist(`${base}/source/index.m3u8`);
    const first = pushRtmp(ws.ffmpegPath, clip, url, { loop: false });
    publisher = first;
    await waitFor("three source segments", async () => {
      const view = await source();
      return view !== null && view.segments.length >= 3 && !view.ended ? view : undefined;
    });
    // A dropped connection: no unpublish, the socket just goes.
    first.kill("SIGKILL");
    await waitFor("the stream to wait for its publisher", () =>
      daemon.status().streams[0]?.state === "reconnecting" ? true : undefined,
    );
    const waiting = await source();
    expect(waiting?.ended).toBe(false);
    const second = pushRtmp(ws.ffmpegPath, clip, url, { loop: false });
    publisher = second;
    const after = await waitFor(
      "segments of the second connection",
      async () => {
        const view = await source();
        return view?.segments.some((s) => s.discontinuity) ? view : undefined;
      },
      60_000,
    );
    expect(after.ended).toBe(false);
    second.kill("SIGTERM");
    const ended = await waitFor("ENDLIST after the clean stop", async () => {
      const view = await source();
      return view?.ended ? view : undefined;
    });
    expect(ended.ended).toBe(true);
    // ENDLIST is written just before the stream marks itself ended.
    const stats = await waitFor("the stream to end", () => {
      const s = daemon.status().streams[0];
      return s?.state === "ended" ? s : undefined;
    });
    expect(stats.connections).toBe(2);
    // One recording for the whole stream, both connections in it, the second after a discontinuity.
    const recorded = parseMediaPlaylist(
      await readFile(join(dirname(stats?.recording ?? ""), "source", "index.m3u8"), "utf8"),
    );
    expect(recorded.segments).toHaveLength(stats?.segments.in ?? -1);
    expect(recorded.segments.filter((x) => x.discontinuity)).toHaveLength(1);
  });
});

/** Waits for the live orchestrators to redeem, then compares paid with the deposit's fall. */
async function settleAlive(
  market: Market,
  fundsBefore: bigint,
  alive: string[],
): Promise<{ paid: bigint; spent: bigint }> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const open = await Promise.all(
      market.orchestrators
        .filter((o) => alive.includes(o.address))
        .map(async (o) => {
          const status = (await (await fetch(`${o.httpUrl}/status`)).json()) as {
            tickets: { pending?: number; submitted?: number };
          };
          return (status.tickets.pending ?? 0) + (status.tickets.submitted ?? 0);
        }),
    );
    if (open.every((n) => n === 0) || Date.now() > deadline) break;
    await sleep(500);
  }
  const events = await market.reader.ticketBroker.queryFilter(
    market.reader.ticketBroker.filters.WinningTicketRedeemed(undefined, market.broadcaster.address),
  );
  const paid = events.reduce((s, e) => s + e.args.paidFromDeposit + e.args.paidFromReserve, 0n);
  // fundsBefore was read after the daemon funded its deposit and reserve at start-up.
  const spent = fundsBefore - (await market.broadcasterFunds());
  return { paid, spent };
}
