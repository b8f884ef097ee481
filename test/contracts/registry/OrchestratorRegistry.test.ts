import { ZeroAddress } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  account,
  type Connection,
  connect,
  expectRevert,
  type Fixture,
  fn,
  loadSystem,
  parseEvents,
  type ReceiptLogs,
  read,
  registerOrchestrator,
  send,
} from "../helpers.ts";

let conn: Connection;
beforeAll(async () => {
  conn = await connect();
});

const PEER_A = "12D3KooWGzh8m1Z6X5Vd4nHjR7xN1r4GkYkJm3q2xXb1VtL5eQ7A";
const PEER_B = "12D3KooWQnwEGNqcM2nAcPtRR9rAX8Hrg4k9kJLCHoqTdC1hn6bS";
const ADDRS = ["/ip4/127.0.0.1/tcp/4001", "/ip6/::1/tcp/4001"];

interface ServiceInfo {
  peerId: string;
  multiaddrs: string[];
  metadata: string;
  updatedAtBlock: bigint;
}

function events(f: Fixture, receipt: ReceiptLogs) {
  return parseEvents(f.registry, receipt).map((e) => [
    e.name,
    ...e.args.toArray().map((v: unknown) => (Array.isArray(v) ? [...v] : v)),
  ]);
}

async function info(f: Fixture, who: string): Promise<ServiceInfo> {
  const r = await read<ServiceInfo>(f.registry, "serviceInfo", who);
  return {
    peerId: r.peerId,
    multiaddrs: [...r.multiaddrs],
    metadata: r.metadata,
    updatedAtBlock: r.updatedAtBlock,
  };
}

describe("OrchestratorRegistry", () => {
  it("publishes, replaces and lists an orchestrator's service information", async () => {
    const f = await loadSystem(conn);
    const orch = account(f, 0);
    await registerOrchestrator(f, orch, 0n);
    const receipt = await send(f.registry, orch, "setServiceInfo", PEER_A, ADDRS, '{"price":1}');
    expect(events(f, receipt)).toEqual([
      ["ServiceInfoUpdated", orch.address, PEER_A, ADDRS, '{"price":1}'],
    ]);
    expect(await info(f, orch.address)).toEqual({
      peerId: PEER_A,
      multiaddrs: ADDRS,
      metadata: '{"price":1}',
      updatedAtBlock: BigInt(receipt.blockNumber),
    });
    expect(await read(f.registry, "ownerOfPeerId", PEER_A)).toBe(orch.address);
    expect(await read(f.registry, "listedCount")).toBe(1n);
    expect(await read(f.registry, "listedAt", 0n)).toBe(orch.address);

    // A new peer id releases the old one; fewer multiaddrs shrink the list.
    await send(f.registry, orch, "setServiceInfo", PEER_B, [ADDRS[0]], "");
    expect(await info(f, orch.address)).toMatchObject({
      peerId: PEER_B,
      multiaddrs: [ADDRS[0]],
      metadata: "",
    });
    expect(await read(f.registry, "ownerOfPeerId", PEER_A)).toBe(ZeroAddress);
    expect(await read(f.registry, "ownerOfPeerId", PEER_B)).toBe(orch.address);
    expect(await read(f.registry, "listedCount")).toBe(1n);
    // The same peer id again is fine.
    await send(f.registry, orch, "setServiceInfo", PEER_B, ADDRS, "x");
    expect((await info(f, orch.address)).multiaddrs).toEqual(ADDRS);
  });

  it("pages through listed orchestrators and removes entries", async () => {
    const f = await loadSystem(conn);
    const [a, b, c] = [account(f, 0), account(f, 1), account(f, 2)];
    for (const [i, o] of [a, b, c].entries()) {
      await registerOrchestrator(f, o, 0n);
      await send(f.registry, o, "setServiceInfo", `peer-${i}`, ADDRS, "");
    }
    expect([...(await read<string[]>(f.registry, "listed", 0n, 2n))]).toEqual([
      a.address,
      b.address,
    ]);
    expect([...(await read<string[]>(f.registry, "listed", 2n, 2n))]).toEqual([c.address]);
    expect([...(await read<string[]>(f.registry, "listed", 3n, 2n))]).toEqual([]);
    expect([...(await read<string[]>(f.registry, "listed", 0n, 100n))]).toEqual([
      a.address,
      b.address,
      c.address,
    ]);

    const receipt = await send(f.registry, a, "clearServiceInfo");
    expect(events(f, receipt)).toEqual([["ServiceInfoCleared", a.address]]);
    expect([...(await read<string[]>(f.registry, "listed", 0n, 10n))]).toEqual([
      c.address,
      b.address,
    ]);
    expect(await read(f.registry, "ownerOfPeerId", "peer-0")).toBe(ZeroAddress);
    expect((await info(f, a.address)).peerId).toBe("");
    await send(f.registry, c, "clearServiceInfo");
    expect([...(await read<string[]>(f.registry, "listed", 0n, 10n))]).toEqual([b.address]);
    await expectRevert(
      fn(f.registry, "clearServiceInfo", a)(),
      f.registry,
      "OrchestratorRegistryNotListed",
      [a.address],
    );
    await expectRevert(
      fn(f.registry, "listedAt", a)(1n),
      f.registry,
      "OrchestratorRegistryIndexOutOfBounds",
      [1n, 1n],
    );
    // The released peer id can be taken by someone else.
    await send(f.registry, a, "setServiceInfo", "peer-2", ADDRS, "");
    expect(await read(f.registry, "ownerOfPeerId", "peer-2")).toBe(a.address);
  });

  it("accepts only registered orchestrators, each for itself, with a peer id nobody else holds", async () => {
    const f = await loadSystem(conn);
    const [a, b, stranger] = [account(f, 0), account(f, 1), account(f, 2)];
    await expectRevert(
      fn(f.registry, "setServiceInfo", stranger)(PEER_A, ADDRS, ""),
      f.registry,
      "OrchestratorRegistryNotOrchestrator",
      [stranger.address],
    );
    await registerOrchestrator(f, a, 0n);
    await registerOrchestrator(f, b, 0n);
    await send(f.registry, a, "setServiceInfo", PEER_A, ADDRS, "");
    await expectRevert(
      fn(f.registry, "setServiceInfo", b)(PEER_A, ADDRS, ""),
      f.registry,
      "OrchestratorRegistryPeerIdTaken",
      [PEER_A, a.address],
    );
  });

  it("caps every length", async () => {
    const f = await loadSystem(conn);
    const orch = account(f, 0);
    await registerOrchestrator(f, orch, 0n);
    const set = fn(f.registry, "setServiceInfo", orch);
    const R = f.registry;
    await expectRevert(set("", ADDRS, ""), R, "OrchestratorRegistryInvalidPeerId", [0n, 128n]);
    await expectRevert(set("p".repeat(129), ADDRS, ""), R, "OrchestratorRegistryInvalidPeerId", [
      129n,
      128n,
    ]);
    await send(f.registry, orch, "setServiceInfo", "p".repeat(128), ADDRS, "");
    await expectRevert(set(PEER_A, [], ""), R, "OrchestratorRegistryInvalidMultiaddrCount", [
      0n,
      8n,
    ]);
    await expectRevert(
      set(PEER_A, Array(9).fill(ADDRS[0]), ""),
      R,
      "OrchestratorRegistryInvalidMultiaddrCount",
      [9n, 8n],
    );
    await expectRevert(set(PEER_A, [ADDRS[0], ""], ""), R, "OrchestratorRegistryInvalidMultiaddr", [
      1n,
      0n,
      256n,
    ]);
    await expectRevert(
      set(PEER_A, ["m".repeat(257)], ""),
      R,
      "OrchestratorRegistryInvalidMultiaddr",
      [0n, 257n, 256n],
    );
    await expectRevert(
      set(PEER_A, ADDRS, "x".repeat(1025)),
      R,
      "OrchestratorRegistryMetadataTooLong",
      [1025n, 1024n],
    );
    await send(
      f.registry,
      orch,
      "setServiceInfo",
      PEER_A,
      Array(8).fill("m".repeat(256)),
      "x".repeat(1024),
    );
    expect(await read(f.registry, "MAX_PEER_ID_LENGTH")).toBe(128n);
    expect(await read(f.registry, "MAX_MULTIADDRS")).toBe(8n);
    expect(await read(f.registry, "MAX_MULTIADDR_LENGTH")).toBe(256n);
    expect(await read(f.registry, "MAX_METADATA_LENGTH")).toBe(1024n);
  });

  it("checks its BondingManager address", async () => {
    const f = await loadSystem(conn);
    expect(await read(f.registry, "bondingManager")).toBe(f.deployment.contracts.BondingManager);
    const factory = await conn.ethers.getContractFactory("OrchestratorRegistry");
    await expectRevert(
      factory.deploy(ZeroAddress),
      factory,
      "OrchestratorRegistryInvalidAddress",
      [],
    );
  });
});
