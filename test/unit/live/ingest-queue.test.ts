import { describe, expect, it } from "vitest";
import { DropOldestQueue } from "../../../node/src/live/ingest-queue.ts";

async function drain<T>(queue: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of queue) items.push(item);
  return items;
}

describe("DropOldestQueue", () => {
  it("hands items over in order, including those pushed while the consumer waits", async () => {
    const queue = new DropOldestQueue<number>(10, () => {});
    queue.push(1);
    const drained = drain(queue);
    await new Promise((resolve) => setTimeout(resolve, 5));
    queue.push(2);
    queue.push(3);
    queue.end();
    expect(await drained).toEqual([1, 2, 3]);
  });

  it("drops the oldest past its bound and reports each drop, so memory stays flat", async () => {
    const dropped: Array<[number, number]> = [];
    const queue = new DropOldestQueue<number>(3, (item, queued) => dropped.push([item, queued]));
    for (let i = 0; i < 6; i++) queue.push(i);
    expect(queue.length).toBe(3);
    expect(dropped).toEqual([
      [0, 3],
      [1, 3],
      [2, 3],
    ]);
    queue.end();
    expect(await drain(queue)).toEqual([3, 4, 5]);
  });

  it("throws a failure after the queued items", async () => {
    const queue = new DropOldestQueue<string>(5, () => {});
    queue.push("a");
    queue.fail(new Error("segmenter broke"));
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const item of queue) seen.push(item);
      })(),
    ).rejects.toThrow("segmenter broke");
    expect(seen).toEqual(["a"]);
  });

  it("discards what comes after the consumer stops early", async () => {
    const queue = new DropOldestQueue<number>(5, () => {});
    queue.push(1);
    queue.push(2);
    for await (const item of queue) {
      expect(item).toBe(1);
      break;
    }
    expect(queue.isEnded).toBe(true);
    queue.push(3);
    expect(queue.length).toBe(0);
  });
});
