import type { RegisteredOrchestrator, RegistryReader } from "../../../node/src/p2p/interface.ts";

/** An in-memory OrchestratorRegistry: who owns which peer id, and who is active. */
export class FakeRegistry implements RegistryReader {
  readonly owners = new Map<string, string>();
  readonly active = new Set<string>();
  readonly listed: RegisteredOrchestrator[] = [];
  failing = false;
  lookups = 0;

  register(address: string, peerId: string, active = true): void {
    this.owners.set(peerId, address);
    if (active) this.active.add(address.toLowerCase());
  }

  async listOrchestrators(): Promise<RegisteredOrchestrator[]> {
    if (this.failing) throw new Error("rpc down");
    return this.listed;
  }

  async ownerOfPeerId(peerId: string): Promise<string | null> {
    this.lookups += 1;
    if (this.failing) throw new Error("rpc down");
    return this.owners.get(peerId) ?? null;
  }

  async isActive(address: string): Promise<boolean> {
    if (this.failing) throw new Error("rpc down");
    return this.active.has(address.toLowerCase());
  }
}
