import { multiaddr } from "@multiformats/multiaddr";
import { describe, expect, it } from "vitest";
import { type PendingConnection, PendingPerHostGater } from "../../../node/src/p2p/gater.ts";
import { Slots } from "../../../node/src/p2p/slots.ts";

/** The parts of a connection the gater reads: its remote address and its close event. */
function connection(ip: string): { conn: PendingConnection; close: () => void } {
  const events = new EventTarget();
  const conn: PendingConnection = {
    remoteAddr: multiaddr(`/ip4/${ip}/tcp/5000`),
    addEventListener: (type, listener) => events.addEventListener(type, listener),
  };
  return { conn, close: () => events.dispatchEvent(new Event("close")) };
}

describe("PendingPerHostGater", () => {
  it("refuses a host's connections past its cap until one finishes its handshake or closes", () => {
    const gater = new PendingPerHostGater(2);
    const a = connection("10.0.0.1");
    const b = connection("10.0.0.1");
    expect(gater.denyInboundConnection(a.conn)).toBe(false);
    expect(gater.denyInboundConnection(b.conn)).toBe(false);
    expect(gater.denyInboundConnection(connection("10.0.0.1").conn)).toBe(true);
    // Another host is not held back by the first one's sockets.
    expect(gater.denyInboundConnection(connection("10.0.0.2").conn)).toBe(false);
    // One handshake done, one socket closed: both places are free again, each counted once.
    expect(gater.denyInboundEncryptedConnection(null, a.conn)).toBe(false);
    a.close();
    b.close();
    b.close();
    expect(gater.pendingFrom("10.0.0.1")).toBe(0);
    expect(gater.denyInboundConnection(connection("10.0.0.1").conn)).toBe(false);
  });
});

describe("Slots", () => {
  it("hands a freed slot to the longest waiter, and refuses past the queue's length", async () => {
    const slots = new Slots(1, { maxWaiting: 2, maxWaitMs: 10_000 });
    const signal = new AbortController().signal;
    const first = slots.tryAcquire();
    const order: string[] = [];
    const a = slots.acquire(signal).then((release) => {
      order.push("a");
      return release;
    });
    const b = slots.acquire(signal).then((release) => {
      order.push("b");
      return release;
    });
    expect(await slots.acquire(signal)).toBeNull();
    expect(slots.queued).toBe(2);
    first?.();
    const releaseA = await a;
    expect(order).toEqual(["a"]);
    expect(slots.capacity()).toEqual({ total: 1, free: 0 });
    releaseA?.();
    (await b)?.();
    expect(order).toEqual(["a", "b"]);
    expect(slots.capacity()).toEqual({ total: 1, free: 1 });
  });

  it("gives up a wait when it runs out or its request goes away", async () => {
    const slots = new Slots(1, { maxWaiting: 4, maxWaitMs: 20 });
    const held = slots.tryAcquire();
    expect(await slots.acquire(new AbortController().signal)).toBeNull();
    const gone = new AbortController();
    const waiting = slots.acquire(gone.signal);
    gone.abort();
    expect(await waiting).toBeNull();
    expect(slots.queued).toBe(0);
    held?.();
    expect(slots.capacity().free).toBe(1);
  });
});
