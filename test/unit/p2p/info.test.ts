import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { Wallet } from "ethers";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { SegmintError } from "../../../node/src/errors.ts";
import { silentLogger } from "../../../node/src/log/index.ts";
import { isP2pError } from "../../../node/src/p2p/errors.ts";
import { InfoProtocol, verifyInfo } from "../../../node/src/p2p/info.ts";
import { defaultP2pOptions } from "../../../node/src/p2p/options.ts";
import { signPayload } from "../../../node/src/p2p/signing.ts";
import { type SignedInfo, SignedInfoSchema } from "../../../node/src/protocol/index.ts";

const orchestrator = Wallet.createRandom();
const peerId = peerIdFromPrivateKey(await generateKeyPair("Ed25519"));
const bytes32 = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;

function protocol(recipient = orchestrator.address): InfoProtocol {
  return new InfoProtocol({
    node: { peerId, handle: async () => {}, unhandle: async () => {} },
    signer: orchestrator,
    profile: {
      pricePerPixel: () => "3",
      capabilities: () => ({ schema: 1, encoders: [] }),
      capacity: () => ({ total: 2, free: 1 }),
    },
    tickets: {
      ticketParams: async () => ({
        recipient,
        faceValue: "100",
        winProb: "2",
        recipientRandHash: bytes32(1),
        seed: bytes32(2),
        creationRound: "3",
        creationRoundBlockHash: bytes32(4),
        expiry: "5",
      }),
    },
    log: silentLogger(),
    clock: () => 1_700_000_000_000,
  });
}

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (error) {
    return isP2pError(error) ? error.code : `not a P2pError: ${String(error)}`;
  }
  return undefined;
}

describe("info signing and verification", () => {
  it("signs info that passes its own schema and verification", async () => {
    const info = await protocol().signedInfo(Wallet.createRandom().address);
    expect(SignedInfoSchema.parse(info)).toEqual(info);
    expect(info.issuedAt).toBe(1_700_000_000_000);
    expect(codeOf(() => verifyInfo(info, peerId.toString()))).toBeUndefined();
  });

  it("refuses tampered info, another peer's info, and params paying someone else", async () => {
    const info = await protocol().signedInfo(Wallet.createRandom().address);
    expect(codeOf(() => verifyInfo({ ...info, pricePerPixel: "1" }, peerId.toString()))).toBe(
      "P2P_BAD_SIGNATURE",
    );
    const otherPeer = peerIdFromPrivateKey(await generateKeyPair("Ed25519")).toString();
    expect(codeOf(() => verifyInfo(info, otherPeer))).toBe("P2P_BAD_RESPONSE");
    const diverted = await protocol(Wallet.createRandom().address).signedInfo(orchestrator.address);
    expect(codeOf(() => verifyInfo(diverted, peerId.toString()))).toBe("P2P_BAD_RESPONSE");
    // Info signed by one key but naming another address.
    const { signature: _signature, ...payload } = info;
    const impostor = Wallet.createRandom();
    const forged: SignedInfo = {
      ...payload,
      signature: await signPayload(impostor, "segmint/info/1", payload),
    };
    expect(codeOf(() => verifyInfo(forged, peerId.toString()))).toBe("P2P_BAD_SIGNATURE");
  });

  it("checks the capability document against the media schema when one is given", async () => {
    const info = await protocol().signedInfo(Wallet.createRandom().address);
    const accepts = z.object({ schema: z.literal(1), encoders: z.array(z.unknown()) });
    const refuses = z.object({ schema: z.literal(2) });
    expect(codeOf(() => verifyInfo(info, peerId.toString(), accepts))).toBeUndefined();
    expect(codeOf(() => verifyInfo(info, peerId.toString(), refuses))).toBe("P2P_BAD_RESPONSE");
  });
});

describe("info refusals to unfunded senders", () => {
  function flooded(maxSenders: number) {
    const lines: string[] = [];
    let now = 1_700_000_000_000;
    const info = new InfoProtocol({
      node: { peerId, handle: async () => {}, unhandle: async () => {} },
      signer: orchestrator,
      profile: {
        pricePerPixel: () => "3",
        capabilities: () => ({ schema: 1, encoders: [] }),
        capacity: () => ({ total: 2, free: 2 }),
      },
      tickets: {
        // What the orchestrator's provider throws for a sender with no deposit.
        ticketParams: async (sender) => {
          throw new SegmintError("INSUFFICIENT_BALANCE", "no deposit", { sender });
        },
      },
      limits: {
        ...defaultP2pOptions.info,
        refusalLogIntervalMs: 60_000,
        maxRefusalLogSenders: maxSenders,
      },
      log: pino({ level: "info" }, { write: (line: string) => lines.push(line) }),
      clock: () => now,
    });
    return { info, lines, advance: (ms: number) => (now += ms) };
  }

  it("answers with a code, not INTERNAL, and logs a sender at most once a minute", async () => {
    const { info, lines, advance } = flooded(100);
    const sender = Wallet.createRandom().address;
    for (let i = 0; i < 5; i += 1) {
      expect(await info.quote(sender, "peer")).toMatchObject({
        ok: false,
        code: "INSUFFICIENT_BALANCE",
      });
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain("stack");
    advance(60_000);
    await info.quote(sender, "peer");
    expect(lines).toHaveLength(2);
  });

  it("keeps its per-sender state bounded over 10,000 requests from random senders", async () => {
    const { info, lines } = flooded(1_000);
    let largest = 0;
    for (let i = 0; i < 10_000; i += 1) {
      const sender = `0x${i.toString(16).padStart(40, "0")}`;
      const answer = await info.quote(sender, "peer");
      expect(answer.ok).toBe(false);
      largest = Math.max(largest, info.refusalLogSize);
    }
    // Flat: the table never grew past its bound, whatever the number of senders.
    expect(largest).toBe(1_000);
    expect(info.refusalLogSize).toBe(1_000);
    expect(lines).toHaveLength(10_000);
  });
});
