import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { silentLogger } from "../../../node/src/log/index.ts";
import { createHost, type SegmintNode } from "../../../node/src/p2p/host.ts";
import type { OrchestratorProfile, TicketParamsProvider } from "../../../node/src/p2p/interface.ts";
import { defaultP2pOptions } from "../../../node/src/p2p/options.ts";
import type { WireTicketParams as TicketParams } from "../../../node/src/protocol/index.ts";

/** Hosts and temp dirs made by a test, torn down together in afterEach/afterAll. */
export class Testbed {
  private readonly nodes: SegmintNode[] = [];
  private readonly dirs: string[] = [];

  async dir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "segmint-p2p-"));
    this.dirs.push(dir);
    return dir;
  }

  async host(options: { gossipsub?: boolean; dataDir?: string } = {}): Promise<SegmintNode> {
    const node = await createHost(
      {
        ...defaultP2pOptions.host,
        dataDir: options.dataDir ?? (await this.dir()),
        listen: ["/ip4/127.0.0.1/tcp/0"],
        gossipsub: options.gossipsub ?? false,
      },
      silentLogger(),
    );
    this.nodes.push(node);
    return node;
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.splice(0).map((node) => node.stop()));
    await Promise.all(this.dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

export const orchestratorWallet = new Wallet(
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
);
export const broadcasterWallet = new Wallet(
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
);

export function fakeTicketParams(recipient: string, sender: string): TicketParams {
  const hex = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
  return {
    recipient,
    faceValue: "1000000000000000",
    winProb: "1157920892373161954235709850086879078532699846656405640394575840079131296399",
    recipientRandHash: hex(Number.parseInt(sender.slice(2, 10), 16)),
    seed: hex(42),
    creationRound: "7",
    creationRoundBlockHash: hex(7777),
    expiry: "9",
  };
}

export class FakeTickets implements TicketParamsProvider {
  readonly asked: string[] = [];
  failing = false;
  constructor(private readonly recipient: string) {}
  async ticketParams(sender: string): Promise<TicketParams> {
    if (this.failing) throw new Error("chain unreachable");
    this.asked.push(sender);
    return fakeTicketParams(this.recipient, sender);
  }
}

export const fakeProfile: OrchestratorProfile = {
  pricePerPixel: () => "1200",
  capabilities: () => ({ encoders: ["libx264"], maxHeight: 1080 }),
  capacity: () => ({ total: 4, free: 3 }),
};
