import { describe, expect, it } from "vitest";
import { broadcastConfigSchema, runBroadcast } from "../../../node/src/broadcaster/index.ts";
import { resolveConfig } from "../../../node/src/config/load.ts";

describe("broadcast config", () => {
  it("reports every missing or malformed setting at once, with its path", async () => {
    const error = await runBroadcast({
      input: "",
      outDir: "",
      rpc: "not a url",
      deployment: "",
      maxSpend: "-5",
      orchestrators: 0,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "CONFIG_INVALID" });
    const paths = (error as { details: { problems: Array<{ path: string }> } }).details.problems
      .map((p) => p.path)
      .sort();
    expect(paths).toEqual(["deployment", "input", "maxSpend", "orchestrators", "outDir", "rpc"]);
  });

  it("layers file < SEGMINT_* env < flags and applies the defaults", () => {
    const config = resolveConfig(broadcastConfigSchema, {
      file: { maxSpend: "100", bootstrap: ["/ip4/1.2.3.4/tcp/1/p2p/x"], orchestrators: 5 },
      env: { SEGMINT_MAX_SPEND: "200", SEGMINT_PRIVATE_KEY: "0xabc" },
      flags: {
        input: "in.mp4",
        outDir: "out",
        rpc: "http://127.0.0.1:8545",
        deployment: "d.json",
        orchestrators: 3,
      },
    });
    expect(config.maxSpend).toBe(200n);
    expect(config.privateKey).toBe("0xabc");
    expect(config.orchestrators).toBe(3);
    expect(config.bootstrap).toEqual(["/ip4/1.2.3.4/tcp/1/p2p/x"]);
    expect(config.profiles).toBe("720p,480p,360p");
    expect(config.maxAttempts).toBe(3);
    expect(config.maxPricePerPixel).toBe(1_000_000_000n);
  });

  it("reads pinned and excluded orchestrators from flags, a config file or SEGMINT_* lists", () => {
    const A = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    const B = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
    const base = { input: "in.mp4", outDir: "out", rpc: "http://127.0.0.1:8545", deployment: "d" };
    const fromEnv = resolveConfig(broadcastConfigSchema, {
      env: { SEGMINT_PINNED_ORCHESTRATORS: `${A}, ${B}`, SEGMINT_EXCLUDED_ORCHESTRATORS: B },
      flags: base,
    });
    expect(fromEnv.pinnedOrchestrators).toEqual([A, B]);
    expect(fromEnv.excludedOrchestrators).toEqual([B]);
    const fromFlags = resolveConfig(broadcastConfigSchema, {
      file: { pinnedOrchestrators: [B] },
      flags: { ...base, pinnedOrchestrators: [A] },
    });
    expect(fromFlags.pinnedOrchestrators).toEqual([A]);
    expect(resolveConfig(broadcastConfigSchema, { flags: base }).pinnedOrchestrators).toEqual([]);
    const bad = (() => {
      try {
        return resolveConfig(broadcastConfigSchema, {
          flags: { ...base, excludedOrchestrators: ["0x1234"] },
        });
      } catch (error) {
        return error;
      }
    })();
    expect(bad).toMatchObject({ code: "CONFIG_INVALID" });
  });

  it("takes --listen as HOST:PORT or a multiaddr, as the orchestrator does, and names a bad one", () => {
    const base = { input: "in.mp4", outDir: "out", rpc: "http://127.0.0.1:8545", deployment: "d" };
    const listen = (values: string[]) =>
      resolveConfig(broadcastConfigSchema, { flags: { ...base, listen: values } }).listen;
    expect(listen(["127.0.0.1:0", "[::1]:4002", "/ip4/0.0.0.0/tcp/4003"])).toEqual([
      "/ip4/127.0.0.1/tcp/0",
      "/ip6/::1/tcp/4002",
      "/ip4/0.0.0.0/tcp/4003",
    ]);
    const fromEnv = resolveConfig(broadcastConfigSchema, {
      env: { SEGMINT_LISTEN: "0.0.0.0:4001" },
      flags: base,
    });
    expect(fromEnv.listen).toEqual(["/ip4/0.0.0.0/tcp/4001"]);
    expect(resolveConfig(broadcastConfigSchema, { flags: base }).listen).toEqual([
      "/ip4/0.0.0.0/tcp/0",
    ]);
    const bad = (() => {
      try {
        return listen(["127.0.0.1:0", "PUBLIC_IP:4001", "node.example.org:4001"]);
      } catch (error) {
        return error;
      }
    })();
    expect(bad).toMatchObject({ code: "CONFIG_INVALID" });
    const problems = (bad as { details: { problems: Array<{ path: string }> } }).details.problems;
    // Each bad value is one problem under its setting.
    expect(problems.map((p) => p.path)).toEqual(["listen", "listen"]);
  });
});
