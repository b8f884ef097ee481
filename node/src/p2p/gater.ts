import type { ConnectionGater } from "@libp2p/interface";
import type { Multiaddr } from "@multiformats/multiaddr";

/**
 * Caps the inbound connections one remote IP holds before their handshake is done. libp2p's
 * own cap (`maxIncomingPendingConnections`) is global: without this, a host opening sockets
 * that never start the noise handshake fills it and every honest dialer is refused until the
 * handshake timeout frees a place. A connection counts from the moment it is accepted until
 * its encryption is done or its socket closes, whichever comes first.
 */
/** What the gater reads of a connection: where it comes from and when it closes. */
export interface PendingConnection {
  remoteAddr: Multiaddr;
  addEventListener(type: "close", listener: () => void): void;
}

export class PendingPerHostGater implements ConnectionGater {
  private readonly pending = new Map<string, number>();

  constructor(private readonly maxPerHost: number) {}

  /** Connections from `host` still in their handshake (for tests and logs). */
  pendingFrom(host: string): number {
    return this.pending.get(host) ?? 0;
  }

  denyInboundConnection(maConn: PendingConnection): boolean {
    const host = hostOf(maConn.remoteAddr);
    if (host === undefined) return false;
    const count = this.pending.get(host) ?? 0;
    if (count >= this.maxPerHost) return true;
    this.pending.set(host, count + 1);
    let counted = true;
    const done = () => {
      if (!counted) return;
      counted = false;
      const left = (this.pending.get(host) ?? 1) - 1;
      if (left <= 0) this.pending.delete(host);
      else this.pending.set(host, left);
    };
    this.settle.set(maConn, done);
    maConn.addEventListener("close", () => {
      this.settle.delete(maConn);
      done();
    });
    return false;
  }

  denyInboundEncryptedConnection(_peer: unknown, maConn: PendingConnection): boolean {
    const done = this.settle.get(maConn);
    this.settle.delete(maConn);
    done?.();
    return false;
  }

  /** Each counted connection's way to stop counting, by its connection object. */
  private readonly settle = new WeakMap<PendingConnection, () => void>();
}

function hostOf(addr: Multiaddr): string | undefined {
  for (const component of addr.getComponents()) {
    if (component.name === "ip4" || component.name === "ip6") return component.value;
  }
  return undefined;
}
