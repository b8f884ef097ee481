import { randomBytes } from "node:crypto";
import { keccak_256 as nobleKeccak } from "@noble/hashes/sha3.js";
import {
  recoverAddress,
  Signature,
  solidityPackedKeccak256,
  TypedDataEncoder,
  Wallet,
} from "ethers";
import { describe, expect, it } from "vitest";
import { toHex } from "../../../node/src/chain/bytes.ts";
import { keccak_256, keccakBackendName } from "../../../node/src/chain/keccak.ts";
import {
  availableSignatureBackends,
  recoverDigestSigner,
  signDigest,
} from "../../../node/src/chain/secp256k1.ts";
import {
  hashRecipientRand,
  isWinningTicket,
  MAX_WIN_PROB,
  TICKET_DOMAIN_NAME,
  TICKET_DOMAIN_VERSION,
  TICKET_EIP712_TYPES,
  type Ticket,
  TicketHasher,
  ticketExpectedValue,
} from "../../../node/src/chain/ticket.ts";

const wallet = new Wallet(`0x${"11".repeat(32)}`);
const privateKey = Uint8Array.from(Buffer.from(wallet.privateKey.slice(2), "hex"));
const domain = { chainId: 31337n, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" };
const ethersDomain = {
  name: TICKET_DOMAIN_NAME,
  version: TICKET_DOMAIN_VERSION,
  chainId: domain.chainId,
  verifyingContract: domain.verifyingContract,
};
const types = {
  Ticket: TICKET_EIP712_TYPES.Ticket.map((f) => ({ name: f.name, type: f.type })),
};

function ticket(overrides: Partial<Ticket> = {}): Ticket {
  return {
    recipient: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    sender: wallet.address,
    faceValue: 10n ** 18n,
    winProb: 1n << 250n,
    senderNonce: 7n,
    recipientRandHash: toHex(randomBytes(32)),
    creationRound: 42n,
    creationRoundBlockHash: toHex(randomBytes(32)),
    ...overrides,
  };
}

describe("ticket EIP-712 hashing", () => {
  it("matches ethers' TypedDataEncoder for many tickets", () => {
    const hasher = new TicketHasher(domain);
    for (let i = 0; i < 50; i++) {
      const t = ticket({
        faceValue: BigInt(toHex(randomBytes(32))),
        winProb: BigInt(toHex(randomBytes(32))),
        senderNonce: BigInt(i),
        creationRound: BigInt(i * 1000),
      });
      expect(toHex(hasher.digest(t))).toBe(TypedDataEncoder.hash(ethersDomain, types, t));
    }
  });

  it("binds the chain id and the verifying contract", () => {
    const t = ticket();
    const a = new TicketHasher(domain).digest(t);
    const b = new TicketHasher({ ...domain, chainId: 1n }).digest(t);
    const c = new TicketHasher({ ...domain, verifyingContract: wallet.address }).digest(t);
    expect(toHex(a)).not.toBe(toHex(b));
    expect(toHex(a)).not.toBe(toHex(c));
  });

  it("refuses malformed fields", () => {
    const hasher = new TicketHasher(domain);
    expect(() => hasher.digest(ticket({ recipient: "0x1234" }))).toThrow();
    expect(() => hasher.digest(ticket({ faceValue: -1n }))).toThrow();
    expect(() => hasher.digest(ticket({ winProb: 1n << 256n }))).toThrow();
    expect(() => hasher.digest(ticket({ recipientRandHash: "0xzz" }))).toThrow();
    // Right length, but not hex throughout (Buffer.write would stop early).
    expect(() => hasher.digest(ticket({ recipientRandHash: `0x${"ab".repeat(31)}zz` }))).toThrow();
    expect(() => hasher.digest(ticket({ sender: `0x${"g".repeat(40)}` }))).toThrow();
    expect(() =>
      hasher.digest(ticket({ creationRoundBlockHash: `1x${"ab".repeat(32)}` })),
    ).toThrow();
  });
});

describe("ticket signatures", () => {
  it("signs exactly what ethers' signTypedData signs (deterministic, low-s, v 27/28)", async () => {
    const hasher = new TicketHasher(domain);
    for (let i = 0; i < 10; i++) {
      const t = ticket({ senderNonce: BigInt(i) });
      const ours = signDigest(hasher.digest(t), privateKey);
      const theirs = await wallet.signTypedData(ethersDomain, types, t);
      expect(toHex(ours)).toBe(theirs);
      expect([27, 28]).toContain(ours[64]);
    }
  });

  it("recovers the same signer as ethers' recoverAddress", () => {
    const hasher = new TicketHasher(domain);
    const digest = hasher.digest(ticket());
    const sig = signDigest(digest, privateKey);
    expect(recoverDigestSigner(digest, sig)).toBe(wallet.address.toLowerCase());
    expect(recoverAddress(digest, toHex(sig))).toBe(wallet.address);
  });

  it("gives the same answers on every available back end", () => {
    const digest = new TicketHasher(domain).digest(ticket());
    const results = availableSignatureBackends().map((b) => {
      const { rs, recid } = b.sign(digest, privateKey);
      return { rs: toHex(rs), recid, pub: toHex(b.recover(digest, rs, recid)) };
    });
    for (const r of results) expect(r).toEqual(results[0]);
  });

  it("rejects a high-s twin, a bad v, a wrong length and a tampered digest", () => {
    const digest = new TicketHasher(domain).digest(ticket());
    const sig = signDigest(digest, privateKey);
    const parsed = Signature.from(toHex(sig));
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const highS = Uint8Array.from(sig);
    highS.set(Buffer.from((n - BigInt(parsed.s)).toString(16).padStart(64, "0"), "hex"), 32);
    highS[64] = sig[64] === 27 ? 28 : 27;
    expect(recoverDigestSigner(digest, highS)).toBeNull();
    const badV = Uint8Array.from(sig);
    badV[64] = 1;
    expect(recoverDigestSigner(digest, badV)).toBeNull();
    expect(recoverDigestSigner(digest, sig.subarray(0, 64))).toBeNull();
    const zero = new Uint8Array(65);
    zero[64] = 27;
    expect(recoverDigestSigner(digest, zero)).toBeNull();
    const other = Uint8Array.from(digest);
    other[0] = (other[0] ?? 0) ^ 1;
    expect(recoverDigestSigner(other, sig)).not.toBe(wallet.address.toLowerCase());
  });
});

describe("keccak back end", () => {
  it("agrees with @noble/hashes on inputs of every block boundary", () => {
    for (const length of [0, 1, 31, 32, 65, 97, 135, 136, 137, 272, 288, 1000]) {
      const data = Uint8Array.from(randomBytes(length));
      expect(toHex(keccak_256(data))).toBe(toHex(nobleKeccak(data)));
    }
    expect(["native-keccak", "noble"]).toContain(keccakBackendName());
  });
});

describe("ticket win and value arithmetic", () => {
  it("hashes recipientRand as abi.encodePacked(uint256)", () => {
    const rand = BigInt(toHex(randomBytes(32)));
    expect(hashRecipientRand(rand)).toBe(solidityPackedKeccak256(["uint256"], [rand]));
  });

  it("decides a win by keccak256(sig || rand) < winProb", () => {
    const sig = randomBytes(65);
    const rand = 12345n;
    const h = BigInt(solidityPackedKeccak256(["bytes", "uint256"], [sig, rand]));
    expect(isWinningTicket(sig, rand, h)).toBe(false);
    expect(isWinningTicket(sig, rand, h + 1n)).toBe(true);
    expect(isWinningTicket(sig, rand, MAX_WIN_PROB)).toBe(h < MAX_WIN_PROB);
    expect(isWinningTicket(sig, rand, 0n)).toBe(false);
  });

  it("computes expected value as faceValue * winProb / 2^256", () => {
    expect(ticketExpectedValue(1000n, 1n << 255n)).toBe(500n);
    expect(ticketExpectedValue(1000n, 1n << 254n)).toBe(250n);
    expect(ticketExpectedValue(3n, 1n << 255n)).toBe(1n);
    expect(ticketExpectedValue(10n ** 18n, MAX_WIN_PROB)).toBe(10n ** 18n - 1n);
  });
});
