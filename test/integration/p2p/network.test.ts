import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../node/src/log/index.ts";
import { Discovery } from "../../../node/src/p2p/discovery.ts";
import { requestInfo } from "../../../node/src/p2p/info.ts";
import type { TranscodeService } from "../../../node/src/p2p/interface.ts";
import { BroadcasterNetwork, OrchestratorNetwork } from "../../../node/src/p2p/network.ts";
import { defaultP2pOptions, type P2pOptions } from "../../../node/src/p2p/options.ts";
import { requestTranscode } from "../../../node/src/p2p/transcode-client.ts";
import { FakeRegistry } from "../../unit/p2p/fakes.ts";
import { broadcasterWallet, FakeTickets, orchestratorWallet } from "./helpers.ts";

const echo: TranscodeService = {
  async handle(job, segment) {
    return {
      ok: true,
      renditions: job.request.profiles.map((p) => ({
        profile: p.name,
        data: segment,
        pixels: 640 * 360 * 30,
        width: 640,
        height: 360,
        frames: 30,
      })),
      balance: "0",
      ticketParams: null,
    };
  },
};

describe("orchestrator and broadcaster networks", () => {
  const dirs: string[] = [];
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function options(bootstrap: string[] = []): Promise<P2pOptions> {
    const dataDir = await mkdtemp(join(tmpdir(), "segmint-net-"));
    dirs.push(dataDir);
    return {
      ...defaultP2pOptions,
      host: { ...defaultP2pOptions.host, dataDir, listen: ["/ip4/127.0.0.1/tcp/0"] },
      bootstrap,
    };
  }

  it("a broadcaster finds the orchestrator from the registry and its advert, then uses it", async () => {
    const orchestrator = await OrchestratorNetwork.start({
      options: await options(),
      signer: orchestratorWallet,
      profile: { pricePerPixel: () => "7", capabilities: () => ({ encoders: ["libx264"] }) },
      tickets: new FakeTickets(orchestratorWallet.address),
      service: echo,
      log: silentLogger(),
    });
    stops.push(() => orchestrator.stop());
    const orchestratorAddrs = orchestrator.node.getMultiaddrs().map(String);

    const registry = new FakeRegistry();
    registry.register(orchestratorWallet.address, orchestrator.node.peerId.toString());
    registry.listed.push({
      address: orchestratorWallet.address,
      peerId: orchestrator.node.peerId.toString(),
      multiaddrs: orchestratorAddrs,
    });
    const broadcaster = await BroadcasterNetwork.start({
      options: await options(orchestratorAddrs.slice(0, 1)),
      registry,
      log: silentLogger(),
    });
    stops.push(() => broadcaster.stop());

    // The bootstrap dial connected the two; the next advert reaches the broadcaster.
    expect(broadcaster.node.getConnections(orchestrator.node.peerId).length).toBeGreaterThan(0);
    const deadline = AbortSignal.timeout(15_000);
    while (broadcaster.adverts?.get(orchestratorWallet.address) === undefined) {
      deadline.throwIfAborted();
      await orchestrator.publisher?.publish();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const [candidate] = broadcaster.discovery.candidates();
    expect(candidate?.sources).toEqual(["registry", "advert"]);
    expect(candidate?.advert?.capacity).toEqual({ total: 4, free: 4 });
    if (candidate === undefined) throw new Error("no candidate");

    const info = await requestInfo(broadcaster.node, Discovery.dialAddrs(candidate), {
      sender: broadcasterWallet.address,
    });
    expect(info.pricePerPixel).toBe("7");
    const result = await requestTranscode(
      broadcaster.node,
      Discovery.dialAddrs(candidate),
      { streamId: "s", seq: 0, durationSec: 2, profiles: [{ name: "360p" }], tickets: [] },
      new Uint8Array([1, 2, 3]),
      { expectedSigner: info.ethAddress },
    );
    expect(Array.from(result.renditions[0]?.data ?? [])).toEqual([1, 2, 3]);
  });
});
