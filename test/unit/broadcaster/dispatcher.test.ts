import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  Dispatcher,
  type DispatcherDeps,
  failureLabel,
} from "../../../node/src/broadcaster/dispatcher.ts";
import { isBroadcasterError } from "../../../node/src/broadcaster/errors.ts";
import type {
  OrchestratorHandle,
  OrchestratorSource,
  SegmentOutcome,
  SegmentWorker,
  SourceSegment,
} from "../../../node/src/broadcaster/interface.ts";
import { SuspensionList } from "../../../node/src/broadcaster/suspension.ts";
import { createLogger, silentLogger } from "../../../node/src/log/index.ts";
import { P2pError, RemoteError } from "../../../node/src/p2p/errors.ts";
import { PaymentsError } from "../../../node/src/payments/errors.ts";

/** A try: resolves with an outcome or throws; decided per orchestrator and segment. */
type Behaviour = (address: string, segment: SourceSegment, attempt: number) => "ok" | Error;

class FakeWorker implements SegmentWorker {
  readonly calls: Array<{ address: string; segment: number }> = [];
  private inFlight = 0;
  maxConcurrent = 0;

  constructor(private readonly behaviour: Behaviour) {}

  async run(handle: OrchestratorHandle, segment: SourceSegment): Promise<SegmentOutcome> {
    const attempt = this.calls.filter((c) => c.segment === segment.index).length;
    this.calls.push({ address: handle.address, segment: segment.index });
    this.inFlight += 1;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.inFlight);
    // Let other tasks interleave, as network calls would.
    await new Promise((resolve) => setImmediate(resolve));
    this.inFlight -= 1;
    const verdict = this.behaviour(handle.address, segment, attempt);
    if (verdict !== "ok") throw verdict;
    return { renditions: [], ticketsSent: 2, expectedValue: 10n, faceValue: 0n, signature: "0x" };
  }
}

class FakeSource implements OrchestratorSource {
  readonly asked: Array<{ count: number; exclude: string[] }> = [];
  constructor(private readonly handles: OrchestratorHandle[]) {}
  async choose(count: number, exclude: ReadonlySet<string>): Promise<OrchestratorHandle[]> {
    this.asked.push({ count, exclude: [...exclude] });
    return this.handles.filter((h) => !exclude.has(h.address)).slice(0, count);
  }
}

const handle = (address: string, maxInFlight = 2): OrchestratorHandle => ({
  address,
  peerId: `peer-${address}`,
  multiaddrs: [],
  maxInFlight,
});

async function* segments(count: number): AsyncGenerator<SourceSegment> {
  for (let index = 0; index < count; index++) {
    yield { index, data: new Uint8Array([index]), startSeconds: index * 2, durationSeconds: 2 };
  }
}

function setup(
  behaviour: Behaviour,
  handles: OrchestratorHandle[],
  extra: Partial<DispatcherDeps> = {},
) {
  const worker = new FakeWorker(behaviour);
  const source = new FakeSource(handles);
  const written: number[] = [];
  const dispatcher = new Dispatcher({
    worker,
    source,
    suspension: new SuspensionList({ maxConsecutiveFailures: 3 }),
    sink: {
      async write(segment) {
        written.push(segment.index);
      },
    },
    log: silentLogger(),
    options: { orchestrators: 2, busyBackoffMs: 1, failureBackoffMs: 0 },
    ...extra,
  });
  return { worker, source, written, dispatcher };
}

const run = (d: Dispatcher, count: number) => d.run(segments(count), new AbortController().signal);
const dropped = () => new P2pError("P2P_STREAM_ENDED", "the stream ended");

describe("Dispatcher", () => {
  it("spreads segments over the chosen orchestrators within their in-flight limits", async () => {
    const { worker, written, dispatcher } = setup(() => "ok", [handle("A", 2), handle("B", 2)]);
    const summary = await run(dispatcher, 10);
    expect(summary.segments).toBe(10);
    expect(written.sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect(Object.keys(summary.orchestrators).sort()).toEqual(["A", "B"]);
    expect((summary.orchestrators.A ?? 0) + (summary.orchestrators.B ?? 0)).toBe(10);
    expect(summary.ticketsSent).toBe(20);
    expect(summary.retries).toBe(0);
    expect(worker.maxConcurrent).toBeLessThanOrEqual(4);
    expect(worker.maxConcurrent).toBeGreaterThan(1);
  });

  it("retries a segment that failed on one orchestrator on another one", async () => {
    let failedSegment: number | undefined;
    const { worker, dispatcher } = setup(
      (address, segment) => {
        if (address === "A" && failedSegment === undefined) {
          failedSegment = segment.index;
          return dropped();
        }
        return "ok";
      },
      [handle("A"), handle("B")],
    );
    const summary = await run(dispatcher, 6);
    expect(summary.segments).toBe(6);
    expect(summary.failed).toEqual([]);
    expect(summary.retries).toBe(1);
    const tries = worker.calls.filter((c) => c.segment === failedSegment).map((c) => c.address);
    expect(tries).toEqual(["A", "B"]);
  });

  it("suspends an orchestrator that keeps failing and replaces it", async () => {
    const { worker, source, dispatcher } = setup(
      (address) => (address === "A" ? dropped() : "ok"),
      [handle("A", 1), handle("B", 1), handle("C", 1)],
    );
    const summary = await run(dispatcher, 12);
    expect(summary.segments).toBe(12);
    expect(summary.failed).toEqual([]);
    expect(summary.orchestrators.A).toBeUndefined();
    expect(summary.suspended).toEqual(["A"]);
    // A failed three times in a row and then got no more work; C took its place.
    expect(worker.calls.filter((c) => c.address === "A")).toHaveLength(3);
    expect(summary.orchestrators.C).toBeGreaterThan(0);
    expect(source.asked.at(-1)?.exclude).toContain("A");
    expect(summary.retries).toBe(3);
  });

  it("takes a suspended orchestrator back once its suspension is over", async () => {
    const clock = { t: 0 };
    let aFailures = 0;
    const { worker, dispatcher } = setup(
      (address) => {
        if (address === "A" && aFailures < 3) {
          aFailures += 1;
          return dropped();
        }
        // Time passes while B works: A's 1 s suspension runs out.
        if (address === "B") clock.t += 300;
        return "ok";
      },
      [handle("A", 1), handle("B", 1)],
      {
        suspension: new SuspensionList({ baseSuspensionMs: 1_000, now: () => clock.t }),
        options: { orchestrators: 2, topUpIntervalMs: 0, failureBackoffMs: 0 },
      },
    );
    const summary = await run(dispatcher, 20);
    expect(summary.failed).toEqual([]);
    expect(worker.calls.filter((c) => c.address === "A").length).toBeGreaterThan(3);
    expect(summary.orchestrators.A).toBeGreaterThan(0);
  });

  it("gives up on a segment after 3 attempts on different orchestrators, names it, and finishes the rest", async () => {
    const { worker, written, dispatcher } = setup(
      (_address, segment) => (segment.index === 2 ? new RemoteError("BAD_SEGMENT", "no") : "ok"),
      [handle("A"), handle("B"), handle("C")],
      { options: { orchestrators: 3, busyBackoffMs: 1 } },
    );
    const summary = await run(dispatcher, 5);
    expect(summary.failed).toEqual([{ segment: 2, attempts: 3, lastError: "BAD_SEGMENT" }]);
    expect(summary.segments).toBe(4);
    expect(written.sort()).toEqual([0, 1, 3, 4]);
    const tries = worker.calls.filter((c) => c.segment === 2).map((c) => c.address);
    expect(new Set(tries).size).toBe(3);
  });

  it("logs and summarizes a refusal as CODE/REASON, so the cause is named", async () => {
    const logged: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    const unlocking = () =>
      new RemoteError("INSUFFICIENT_BALANCE", "the sender is unlocking", {
        reason: "SENDER_UNLOCKING",
      });
    const { dispatcher } = setup(
      (_address, segment) => (segment.index === 1 ? unlocking() : "ok"),
      [handle("A"), handle("B"), handle("C")],
      {
        log: createLogger({ destination, format: "json" }),
        options: { orchestrators: 3, busyBackoffMs: 1, failureBackoffMs: 0 },
      },
    );
    const summary = await run(dispatcher, 3);
    const label = "INSUFFICIENT_BALANCE/SENDER_UNLOCKING";
    expect(summary.failed).toEqual([{ segment: 1, attempts: 3, lastError: label }]);
    const tries = logged
      .join("")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === "segment try failed");
    expect(tries).toHaveLength(3);
    for (const line of tries) expect(line.code).toBe(label);
  });

  it("labels a failure by its code alone when there is no reason, or the reason repeats it", () => {
    expect(failureLabel(new RemoteError("BAD_SEGMENT", "no"))).toBe("BAD_SEGMENT");
    expect(failureLabel(new RemoteError("BAD_TICKET", "no", { reason: "BAD_TICKET" }))).toBe(
      "BAD_TICKET",
    );
    expect(failureLabel(new RemoteError("BAD_TICKET", "stale", { reason: "STALE_PARAMS" }))).toBe(
      "BAD_TICKET/STALE_PARAMS",
    );
    expect(failureLabel(dropped())).toBe("P2P_STREAM_ENDED");
  });

  it("retries on the same orchestrator when it is the only one left, rather than losing the segment", async () => {
    const { worker, dispatcher } = setup(
      (_address, segment, attempt) => (segment.index === 0 && attempt < 2 ? dropped() : "ok"),
      [handle("A")],
      { options: { orchestrators: 1, failureBackoffMs: 0 } },
    );
    const summary = await run(dispatcher, 2);
    expect(summary.failed).toEqual([]);
    expect(worker.calls.filter((c) => c.segment === 0)).toHaveLength(3);
  });

  it("does not count CAPACITY_FULL as an attempt and lowers the in-flight limit", async () => {
    let busy = 4;
    const { dispatcher } = setup(
      () => {
        if (busy > 0) {
          busy -= 1;
          return new RemoteError("CAPACITY_FULL", "full");
        }
        return "ok";
      },
      [handle("A", 4)],
      { options: { orchestrators: 1, busyBackoffMs: 1 } },
    );
    const summary = await run(dispatcher, 3);
    expect(summary.failed).toEqual([]);
    expect(summary.segments).toBe(3);
    expect(summary.retries).toBe(4);
  });

  it("stops at once when the spend cap is reached", async () => {
    const { dispatcher } = setup(
      (_a, segment) => (segment.index >= 2 ? new PaymentsError("SPEND_CAP_REACHED", "cap") : "ok"),
      [handle("A", 1)],
      { options: { orchestrators: 1, failureBackoffMs: 0 } },
    );
    await expect(run(dispatcher, 10)).rejects.toMatchObject({ code: "SPEND_CAP_REACHED" });
  });

  it("drops an orchestrator whose ticket params break our caps", async () => {
    const { dispatcher, worker } = setup(
      (address) => (address === "A" ? new PaymentsError("TICKET_EV_TOO_HIGH", "ev") : "ok"),
      [handle("A", 1), handle("B", 1)],
    );
    const summary = await run(dispatcher, 4);
    expect(summary.segments).toBe(4);
    expect(worker.calls.filter((c) => c.address === "A")).toHaveLength(1);
  });

  it("fails with NO_ORCHESTRATORS when none is available", async () => {
    const { dispatcher } = setup(() => "ok", []);
    const error = await run(dispatcher, 1).catch((e: unknown) => e);
    expect(isBroadcasterError(error, "NO_ORCHESTRATORS")).toBe(true);
  });

  it("fails every segment, naming each, when all orchestrators are gone", async () => {
    const { dispatcher } = setup(() => dropped(), [handle("A", 1)], {
      options: { orchestrators: 1 },
    });
    const summary = await run(dispatcher, 3);
    expect(summary.segments).toBe(0);
    expect(summary.failed.map((f) => f.segment).sort()).toEqual([0, 1, 2]);
  });

  it("reports an abort as BROADCAST_ABORTED", async () => {
    const stop = new AbortController();
    const { dispatcher } = setup(
      (_a, segment) => {
        if (segment.index === 1) stop.abort();
        return "ok";
      },
      [handle("A", 1)],
      { options: { orchestrators: 1, failureBackoffMs: 0 } },
    );
    const error = await dispatcher.run(segments(50), stop.signal).catch((e: unknown) => e);
    expect(isBroadcasterError(error, "BROADCAST_ABORTED")).toBe(true);
  });
  it("gives up a segment whose deadline passes during a hung try, and the stream goes on", async () => {
    const hung = new Set<number>([1]);
    const budgets: Array<number | undefined> = [];
    const worker: SegmentWorker = {
      run: (h, segment, signal) =>
        new Promise<SegmentOutcome>((resolve, reject) => {
          budgets.push(segment.budgetMs);
          if (hung.has(segment.index) && h.address === "A") {
            signal.addEventListener("abort", () => reject(signal.reason), { once: true });
            return;
          }
          setImmediate(() =>
            resolve({
              renditions: [],
              ticketsSent: 1,
              expectedValue: 1n,
              faceValue: 0n,
              signature: "0x",
            }),
          );
        }),
    };
    const given: Array<{ segment: number; lastError: string }> = [];
    const written: number[] = [];
    const dispatcher = new Dispatcher({
      worker,
      source: new FakeSource([handle("A", 4)]),
      suspension: new SuspensionList(),
      sink: {
        async write(segment) {
          written.push(segment.index);
        },
      },
      log: silentLogger(),
      options: { orchestrators: 1, deadlineMs: 100, failureBackoffMs: 0 },
      onSegmentFailed: (segment, failure) =>
        given.push({ segment: segment.index, lastError: failure.lastError }),
    });
    const summary = await run(dispatcher, 4);
    expect(given).toEqual([{ segment: 1, lastError: "DEADLINE_PASSED" }]);
    expect(summary.failed.map((f) => f.segment)).toEqual([1]);
    expect(written.sort((a, b) => a - b)).toEqual([0, 2, 3]);
    // Every try told the orchestrator how long it had: at most the 100 ms deadline.
    for (const budget of budgets) {
      expect(budget).toBeGreaterThan(0);
      expect(budget).toBeLessThanOrEqual(100);
    }
  });

  it("starts a live stream with no orchestrator yet when told to, giving segments up at their deadline", async () => {
    const given: number[] = [];
    const dispatcher = new Dispatcher({
      worker: new FakeWorker(() => "ok"),
      source: new FakeSource([]),
      suspension: new SuspensionList(),
      sink: { async write() {} },
      log: silentLogger(),
      options: { orchestrators: 1, deadlineMs: 50, requireOrchestratorsAtStart: false },
      onSegmentFailed: (segment) => given.push(segment.index),
    });
    const summary = await run(dispatcher, 3);
    expect(summary.segments).toBe(0);
    expect(given.sort()).toEqual([0, 1, 2]);
  });
  it("suspends an orchestrator that answers nothing for whole deadlines, and keeps one that is only slow", async () => {
    const worker: SegmentWorker = {
      run: (h, segment, signal) =>
        new Promise<SegmentOutcome>((resolve, reject) => {
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
          if (h.address === "HUNG") return;
          // SLOW misses the deadline on two segments while answering the others in time.
          const delay = segment.index === 4 || segment.index === 8 ? 150 : 5;
          setTimeout(
            () =>
              resolve({
                renditions: [],
                ticketsSent: 1,
                expectedValue: 1n,
                faceValue: 0n,
                signature: "0x",
              }),
            delay,
          );
        }),
    };
    const suspension = new SuspensionList({ maxConsecutiveFailures: 1 });
    const dispatcher = new Dispatcher({
      worker,
      source: new FakeSource([handle("HUNG", 1), handle("SLOW", 4)]),
      suspension,
      sink: { async write() {} },
      log: silentLogger(),
      options: { orchestrators: 2, deadlineMs: 100, maxAttempts: 1, failureBackoffMs: 0 },
    });
    await run(dispatcher, 12);
    expect(suspension.isSuspended("HUNG")).toBe(true);
    expect(suspension.isSuspended("SLOW")).toBe(false);
  });
  it("hedges a slow try on a second orchestrator: the first good answer wins, nothing is lost", async () => {
    const cancelled: string[] = [];
    const worker: SegmentWorker = {
      run: (h, segment, signal) =>
        new Promise<SegmentOutcome>((resolve, reject) => {
          let done = false;
          signal.addEventListener(
            "abort",
            () => {
              if (done) return;
              cancelled.push(`${h.address}:${segment.index}`);
              reject(signal.reason);
            },
            { once: true },
          );
          if (h.address === "FROZEN") return;
          setTimeout(() => {
            done = true;
            resolve({
              renditions: [],
              ticketsSent: 1,
              expectedValue: 1n,
              faceValue: 0n,
              signature: "0x",
            });
          }, 5);
        }),
    };
    const written: number[] = [];
    const lost: number[] = [];
    const dispatcher = new Dispatcher({
      worker,
      source: new FakeSource([handle("FROZEN", 2), handle("OK", 2)]),
      suspension: new SuspensionList(),
      sink: {
        async write(segment) {
          written.push(segment.index);
        },
      },
      log: silentLogger(),
      options: { orchestrators: 2, deadlineMs: 2_000, hedgeAfterMs: 30 },
      onSegmentFailed: (segment) => lost.push(segment.index),
    });
    const summary = await run(dispatcher, 6);
    expect(lost).toEqual([]);
    expect(written.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(summary.orchestrators).toEqual({ OK: 6 });
    // The frozen node's tries were cancelled once the hedge answered.
    expect(cancelled.filter((c) => !c.startsWith("FROZEN:"))).toEqual([]);
    expect(cancelled.length).toBeGreaterThan(0);
  });

  it("never suspends an orchestrator for being full, however often it says so", async () => {
    let busy = 60;
    const suspension = new SuspensionList({ maxConsecutiveFailures: 1 });
    const { dispatcher } = setup(
      () => {
        if (busy > 0) {
          busy -= 1;
          return new RemoteError("CAPACITY_FULL", "full");
        }
        return "ok";
      },
      [handle("A", 2)],
      {
        suspension,
        random: () => 0.5,
        options: { orchestrators: 1, busyBackoffMs: 1, maxBusyBackoffMs: 2, maxBusyRetries: 100 },
      },
    );
    const summary = await run(dispatcher, 3);
    expect(summary.failed).toEqual([]);
    expect(summary.segments).toBe(3);
    expect(summary.suspended).toEqual([]);
    expect(suspension.isSuspended("A")).toBe(false);
  });

  it("backs a failed orchestrator off: the next segments go elsewhere, and it is not suspended", async () => {
    const suspension = new SuspensionList({ maxConsecutiveFailures: 3 });
    const { worker, dispatcher } = setup(
      (address, _segment, attempt) => (address === "A" && attempt === 0 ? dropped() : "ok"),
      [handle("A", 1), handle("B", 1)],
      { suspension, random: () => 0.5, options: { orchestrators: 2, failureBackoffMs: 60_000 } },
    );
    const summary = await run(dispatcher, 6);
    expect(summary.failed).toEqual([]);
    expect(summary.segments).toBe(6);
    // A refused its first segment and got nothing more while it backed off.
    expect(worker.calls.filter((c) => c.address === "A")).toHaveLength(1);
    expect(summary.orchestrators.B).toBe(6);
    expect(suspension.isSuspended("A")).toBe(false);
  });

  it("counts tries refused together by a restarting node as one failure, and takes it back", async () => {
    let refusals = 3;
    const suspension = new SuspensionList({ maxConsecutiveFailures: 3 });
    const { worker, dispatcher } = setup(
      (address) => {
        if (address === "A" && refusals > 0) {
          refusals -= 1;
          return dropped();
        }
        return "ok";
      },
      [handle("A", 3)],
      { suspension, random: () => 0.5, options: { orchestrators: 1, failureBackoffMs: 20 } },
    );
    const summary = await run(dispatcher, 6);
    expect(summary.failed).toEqual([]);
    expect(summary.segments).toBe(6);
    expect(summary.suspended).toEqual([]);
    expect(worker.calls.filter((c) => c.address === "A").length).toBe(9);
  });

  it("gives up a try running far past the node's usual time and sends it elsewhere", async () => {
    const aborted: number[] = [];
    const worker: SegmentWorker = {
      run: (h, segment, signal) =>
        new Promise<SegmentOutcome>((resolve, reject) => {
          // A answers its first two segments quickly, then its ffmpeg hangs.
          if (h.address === "A" && segment.index >= 2) {
            signal.addEventListener(
              "abort",
              () => {
                aborted.push(segment.index);
                reject(signal.reason);
              },
              { once: true },
            );
            return;
          }
          setTimeout(
            () =>
              resolve({
                renditions: [],
                ticketsSent: 1,
                expectedValue: 1n,
                faceValue: 0n,
                signature: "0x",
              }),
            5,
          );
        }),
    };
    const written: number[] = [];
    const dispatcher = new Dispatcher({
      worker,
      source: new FakeSource([handle("A", 1), handle("B", 1)]),
      suspension: new SuspensionList(),
      sink: {
        async write(segment) {
          written.push(segment.index);
        },
      },
      log: silentLogger(),
      random: () => 0.5,
      // A file broadcast: no segment deadline and no hedging; only the limit from A's observed
      // speed can end its hung tries (the run would otherwise wait on them for ever).
      options: { orchestrators: 2, minTryTimeoutMs: 100, slowTryFactor: 4 },
    });
    const summary = await run(dispatcher, 5);
    expect(summary.failed).toEqual([]);
    expect(written.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
    expect(aborted.length).toBeGreaterThan(0);
    expect(summary.orchestrators.B).toBeGreaterThan(0);
  });
});
