import type { RegisteredOrchestrator, RegistryReader } from "../../../node/src/p2p/interface.ts";

/** An in-memory OrchestratorRegistry: which peer id each address proved, and who is active. */
export class FakeRegistry implements RegistryReader {
  readonly peers = new Map<string, string>();
  readonly active = new Set<string>();
  readonly listed: RegisteredOrchestrator[] = [];
  failing = false;
  lookups = 0;

  register(address: string, peerId: string, active = true): void {
    this.peers.set(address.toLowerCase(), peerId);
    if (active) this.active.add(address.toLowerCase());
  }

  async listOrchestrators(): Promise<RegisteredOrchestrator[]> {
    if (this.failing) throw new Error("rpc down");
    return this.listed;
  }

  async provenPeerId(address: string): Promise<string | null> {
    this.lookups += 1;
    if (this.failing) throw new Error("rpc down");
    return this.peers.get(address.toLowerCase()) ?? null;
  }

  async isActive(address: string): Promise<boolean> {
    if (this.failing) throw new Error("rpc down");
    return this.active.has(address.toLowerCase());
  }
}
