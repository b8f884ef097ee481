import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../node/src/log/index.ts";
import { type ChainObservation, ChainWatch } from "../../../node/src/orchestrator/chain.ts";

/** A chain whose answers the test sets; `fail` makes it stop answering. */
class FakeChain {
  seen: ChainObservation = { deployed: true, registered: true, round: 81n, block: 1620 };
  fail = false;
  reregistered = 0;
  resets = 0;
  observe = async (): Promise<ChainObservation> => {
    if (this.fail) throw new Error("connect ECONNREFUSED 127.0.0.1:8545");
    return this.seen;
  };
}

const codeOf = (watch: ChainWatch) => (watch.health.ok ? "ok" : watch.health.code);

describe("ChainWatch: a chain restart under a running orchestrator", () => {
  it("reports an unreachable chain and missing contracts, and recovers with the chain", async () => {
    const chain = new FakeChain();
    const watch = new ChainWatch({
      observe: chain.observe,
      reregister: null,
      onReset: () => chain.resets++,
      log: silentLogger(),
    });
    await watch.tick();
    expect(codeOf(watch)).toBe("ok");
    chain.fail = true;
    await watch.tick();
    expect(codeOf(watch)).toBe("CHAIN_UNREACHABLE");
    chain.fail = false;
    chain.seen = { deployed: false, registered: false, round: 0n, block: 3 };
    await watch.tick();
    expect(codeOf(watch)).toBe("DEPLOYMENT_NO_CODE");
    expect(chain.resets).toBe(1); // block 1620 -> 3
  });

  it("registers again after a reset and redeploy when configured, else says the registration is lost", async () => {
    const chain = new FakeChain();
    const again = new ChainWatch({
      observe: chain.observe,
      reregister: async () => {
        chain.reregistered++;
        chain.seen = { ...chain.seen, registered: true };
      },
      onReset: () => chain.resets++,
      log: silentLogger(),
    });
    await again.tick();
    chain.seen = { deployed: true, registered: false, round: 1n, block: 25 };
    await again.tick();
    expect(chain.resets).toBe(1);
    expect(chain.reregistered).toBe(1);
    expect(codeOf(again)).toBe("ok");

    const reportOnly = new ChainWatch({
      observe: chain.observe,
      reregister: null,
      onReset: () => {},
      log: silentLogger(),
    });
    chain.seen = { deployed: true, registered: false, round: 1n, block: 26 };
    await reportOnly.tick();
    expect(codeOf(reportOnly)).toBe("REGISTRATION_LOST");
    expect(reportOnly.health).toMatchObject({ reason: expect.stringContaining("registered") });

    const failing = new ChainWatch({
      observe: chain.observe,
      reregister: async () => {
        throw new Error("no tokens");
      },
      onReset: () => {},
      log: silentLogger(),
    });
    await failing.tick();
    expect(codeOf(failing)).toBe("REGISTRATION_LOST");
  });
});
