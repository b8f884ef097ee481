import { describe, expect, it } from "vitest";
import { MediaError } from "../../../node/src/media/errors.ts";
import { Semaphore } from "../../../node/src/media/semaphore.ts";

describe("Semaphore", () => {
  it("grants up to its capacity and hands released slots to waiters in order", async () => {
    const semaphore = new Semaphore(2);
    const a = await semaphore.acquire();
    await semaphore.acquire();
    const order: string[] = [];
    const c = semaphore.acquire().then((release) => {
      order.push("c");
      return release;
    });
    const d = semaphore.acquire().then((release) => {
      order.push("d");
      return release;
    });
    expect(semaphore.inUse).toBe(2);
    expect(semaphore.waiting).toBe(2);
    a();
    a(); // a second release of the same slot is ignored
    const releaseC = await c;
    expect(order).toEqual(["c"]);
    expect(semaphore.inUse).toBe(2);
    releaseC();
    await d;
    expect(order).toEqual(["c", "d"]);
  });

  it("lets a waiter give up through its AbortSignal without taking a slot", async () => {
    const semaphore = new Semaphore(1);
    const release = await semaphore.acquire();
    const controller = new AbortController();
    const waiting = semaphore.acquire(controller.signal);
    controller.abort();
    const error = await waiting.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaError);
    expect((error as MediaError).code).toBe("TRANSCODE_ABORTED");
    expect(semaphore.waiting).toBe(0);
    release();
    expect(semaphore.inUse).toBe(0);
  });

  it("refuses a capacity below one", () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});
