import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../node/src/log/index.ts";
import { INFO_PROTOCOL } from "../../../node/src/p2p/constants.ts";
import { RemoteError } from "../../../node/src/p2p/errors.ts";
import { encodeJson, FrameReader, writeFrame } from "../../../node/src/p2p/framing.ts";
import { InfoProtocol, requestInfo } from "../../../node/src/p2p/info.ts";
import {
  broadcasterWallet,
  FakeTickets,
  fakeProfile,
  orchestratorWallet,
  Testbed,
} from "./helpers.ts";

describe("/segmint/info/1.0.0 between two real hosts", () => {
  const bed = new Testbed();
  afterEach(() => bed.close());

  async function orchestrator() {
    const node = await bed.host();
    const tickets = new FakeTickets(orchestratorWallet.address);
    const info = new InfoProtocol({
      node,
      signer: orchestratorWallet,
      profile: fakeProfile,
      tickets,
      log: silentLogger(),
    });
    await info.start();
    return { node, tickets, info };
  }

  it("returns signed info with ticket params issued for the asking sender", async () => {
    const orch = await orchestrator();
    const client = await bed.host();
    const info = await requestInfo(client, orch.node.getMultiaddrs(), {
      sender: broadcasterWallet.address,
    });
    expect(info.ethAddress).toBe(orchestratorWallet.address);
    expect(info.peerId).toBe(orch.node.peerId.toString());
    expect(info.pricePerPixel).toBe("1200");
    expect(info.capacity).toEqual({ total: 4, free: 3 });
    expect(info.capabilities).toEqual({ encoders: ["libx264"], maxHeight: 1080 });
    expect(info.ticketParams.recipient).toBe(orchestratorWallet.address);
    expect(orch.tickets.asked).toEqual([broadcasterWallet.address]);
  });

  it("answers INTERNAL when ticket params cannot be issued", async () => {
    const orch = await orchestrator();
    orch.tickets.failing = true;
    const client = await bed.host();
    const error = await requestInfo(client, orch.node.getMultiaddrs(), {
      sender: broadcasterWallet.address,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error instanceof RemoteError && error.code).toBe("INTERNAL");
  });

  it("answers a malformed request with BAD_REQUEST and issues no ticket params", async () => {
    const orch = await orchestrator();
    const client = await bed.host();
    const stream = await client.dialProtocol(orch.node.getMultiaddrs(), INFO_PROTOCOL);
    const signal = AbortSignal.timeout(5_000);
    await writeFrame(stream, encodeJson({ sender: "not-an-address" }), signal);
    await stream.close();
    const reader = new FrameReader(stream, { signal, stallMs: 5_000 });
    const answer = JSON.parse(new TextDecoder().decode(await reader.next(65_536, "answer")));
    expect(answer).toMatchObject({ ok: false, code: "BAD_REQUEST" });
    expect(orch.tickets.asked).toEqual([]);
  });
});
