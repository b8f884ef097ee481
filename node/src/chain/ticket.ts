import { createRequire } from "node:module";
import { secp256k1 as noble } from "@noble/curves/secp256k1.js";
import { keccak_256 as nobleKeccak } from "@noble/hashes/sha3.js";

// ---------------------------------------------------------------------------------------
// Keccak-256. Validation hashes each ticket four times (struct, digest, rand, win check);
// the `keccak` package's native sponge does a 288-byte struct in ~3 us against ~13 us for
// pure-JS @noble/hashes, which matters at tens of thousands of tickets per second. One
// native state object is reused (re-initialized per hash) because allocating it costs more
// than hashing 32 bytes. Falls back to noble when the binding does not load.

interface NativeKeccakState {
  initialize(rate: number, capacity: number): void;
  absorb(data: Uint8Array): void;
  absorbLastFewBits(bits: number): void;
  squeeze(length: number): Uint8Array;
}

function loadNativeKeccak(): ((data: Uint8Array) => Uint8Array) | null {
  if (process.env.SEGMINT_KECCAK === "noble") return null;
  try {
    const require = createRequire(import.meta.url);
    const loadBinding = require("node-gyp-build") as (dir: string) => unknown;
    const dir = require.resolve("keccak/package.json").replace(/package\.json$/, "");
    const State = loadBinding(dir);
    if (typeof State !== "function") return null;
    const state = Reflect.construct(State, []) as NativeKeccakState;
    const hash = (data: Uint8Array): Uint8Array => {
      // Keccak-256: rate 1088 bits, capacity 512, the original 0x01 padding (not SHA-3's 0x06).
      state.initialize(1088, 512);
      state.absorb(data);
      state.absorbLastFewBits(0x01);
      return state.squeeze(32);
    };
    // Refuse a binding that does not give the known empty-input hash.
    const empty = Buffer.from(hash(new Uint8Array(0))).toString("hex");
    return empty === "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
      ? hash
      : null;
  } catch {
    return null;
  }
}

const nativeKeccak = loadNativeKeccak();

/** keccak256 of `data`, native when available. */
export const keccak_256: (data: Uint8Array) => Uint8Array =
  nativeKeccak ?? ((data) => nobleKeccak(data));

export function keccakBackendName(): "native-keccak" | "noble" {
  return nativeKeccak ? "native-keccak" : "noble";
}

/**
 * The probabilistic-payment ticket, exactly as TicketBroker hashes it (EIP-712, primary type
 * "Ticket", fields in this order). Addresses are 0x-prefixed hex (any case); bytes32 values
 * are 0x-prefixed 64-digit hex.
 */
export interface Ticket {
  recipient: string;
  sender: string;
  faceValue: bigint;
  winProb: bigint;
  senderNonce: bigint;
  recipientRandHash: string;
  creationRound: bigint;
  creationRoundBlockHash: string;
}

export interface TicketDomain {
  chainId: bigint;
  /** The TicketBroker address. */
  verifyingContract: string;
}

export const TICKET_DOMAIN_NAME = "Segmint";
export const TICKET_DOMAIN_VERSION = "1";

/** The EIP-712 types in the shape ethers' TypedDataEncoder and signTypedData take. */
export const TICKET_EIP712_TYPES = {
  Ticket: [
    { name: "recipient", type: "address" },
    { name: "sender", type: "address" },
    { name: "faceValue", type: "uint256" },
    { name: "winProb", type: "uint256" },
    { name: "senderNonce", type: "uint256" },
    { name: "recipientRandHash", type: "bytes32" },
    { name: "creationRound", type: "uint256" },
    { name: "creationRoundBlockHash", type: "bytes32" },
  ],
} as const;

/** The EIP-712 domain as signTypedData / TypedDataEncoder take it, for signing with a wallet. */
export function ticketTypedDataDomain(domain: TicketDomain): {
  name: string;
  version: string;
  chainId: bigint;
  verifyingContract: string;
} {
  return {
    name: TICKET_DOMAIN_NAME,
    version: TICKET_DOMAIN_VERSION,
    chainId: domain.chainId,
    verifyingContract: domain.verifyingContract,
  };
}

/** TICKET_EIP712_TYPES as a mutable copy: ethers' typed-data calls do not take readonly arrays. */
export function ticketTypedDataTypes(): { Ticket: Array<{ name: string; type: string }> } {
  return { Ticket: TICKET_EIP712_TYPES.Ticket.map((field) => ({ ...field })) };
}

/** winProb is compared against a uint256 hash, so this value makes every ticket win. */
export const MAX_WIN_PROB = (1n << 256n) - 1n;
/** Expected value carries this denominator: EV = faceValue * winProb / 2^256. */
export const WIN_PROB_SCALE = 1n << 256n;

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = SECP256K1_N >> 1n;
// The same bounds as bytes, so checking a signature's r and s needs no bigint conversion.
const N_BYTES = Buffer.from(SECP256K1_N.toString(16).padStart(64, "0"), "hex");
const HALF_N_BYTES = Buffer.from(HALF_N.toString(16).padStart(64, "0"), "hex");
const ZERO_32 = Buffer.alloc(32);
const UINT256_MAX = (1n << 256n) - 1n;

const TICKET_TYPE_STRING =
  "Ticket(address recipient,address sender,uint256 faceValue,uint256 winProb,uint256 senderNonce," +
  "bytes32 recipientRandHash,uint256 creationRound,bytes32 creationRoundBlockHash)";
const DOMAIN_TYPE_STRING =
  "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
const encoder = new TextEncoder();
export const TICKET_TYPE_HASH = keccak_256(encoder.encode(TICKET_TYPE_STRING));

/** Thrown for malformed input (bad hex, out-of-range numbers); callers map it to their codes. */
export class TicketEncodingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TicketEncodingError";
  }
}

// Buffer.write(hex) decodes natively straight into the target, with no intermediate buffers
// on the hot path. It stops at the first character that is not a hex pair and returns the
// bytes it wrote, so "right length, 0x prefix, every byte written" is the whole check.
function isPrefixed(value: string, length: number): boolean {
  return typeof value === "string" && value.length === length && value.startsWith("0x");
}

function writeAddress(out: Buffer, offset: number, address: string, field: string): void {
  out.fill(0, offset, offset + 12);
  if (!isPrefixed(address, 42) || out.write(address.slice(2), offset + 12, 20, "hex") !== 20) {
    throw new TicketEncodingError(`${field} is not a 20-byte address`);
  }
}

function writeBytes32(out: Buffer, offset: number, value: string, field: string): void {
  if (!isPrefixed(value, 66) || out.write(value.slice(2), offset, 32, "hex") !== 32) {
    throw new TicketEncodingError(`${field} is not a 32-byte hex value`);
  }
}

function writeUint256(out: Buffer, offset: number, value: bigint, field: string): void {
  if (typeof value !== "bigint" || value < 0n || value > UINT256_MAX) {
    throw new TicketEncodingError(`${field} is not a uint256`);
  }
  out.write(value.toString(16).padStart(64, "0"), offset, 32, "hex");
}

export function uint256ToBytes(value: bigint): Uint8Array {
  const out = Buffer.alloc(32);
  writeUint256(out, 0, value, "value");
  return out;
}

export function bytesToBigInt(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  return BigInt(
    `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`,
  );
}

export function toHex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`;
}

export function fromHex(hex: string, expectedLength?: number): Uint8Array {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(hex)) throw new TicketEncodingError("not 0x-prefixed hex");
  const bytes = new Uint8Array(Buffer.from(hex.slice(2), "hex"));
  if (expectedLength !== undefined && bytes.length !== expectedLength) {
    throw new TicketEncodingError(`expected ${expectedLength} bytes, got ${bytes.length}`);
  }
  return bytes;
}

export function ticketDomainSeparator(domain: TicketDomain): Uint8Array {
  const buf = Buffer.alloc(5 * 32);
  buf.set(keccak_256(encoder.encode(DOMAIN_TYPE_STRING)), 0);
  buf.set(keccak_256(encoder.encode(TICKET_DOMAIN_NAME)), 32);
  buf.set(keccak_256(encoder.encode(TICKET_DOMAIN_VERSION)), 64);
  writeUint256(buf, 96, domain.chainId, "chainId");
  writeAddress(buf, 128, domain.verifyingContract, "verifyingContract");
  return keccak_256(buf);
}

/**
 * Hashes tickets for one domain. The domain separator and type hash are computed once;
 * each ticket then costs two keccak calls over preallocated buffers (no ABI coder), which
 * is what lets validation reach tens of thousands of tickets per second.
 */
export class TicketHasher {
  readonly domainSeparator: Uint8Array;
  private readonly structBuf = Buffer.alloc(9 * 32);
  private readonly digestBuf = Buffer.alloc(2 + 32 + 32);

  constructor(readonly domain: TicketDomain) {
    this.domainSeparator = ticketDomainSeparator(domain);
    this.structBuf.set(TICKET_TYPE_HASH, 0);
    this.digestBuf[0] = 0x19;
    this.digestBuf[1] = 0x01;
    this.digestBuf.set(this.domainSeparator, 2);
  }

  structHash(ticket: Ticket): Uint8Array {
    const b = this.structBuf;
    writeAddress(b, 32, ticket.recipient, "recipient");
    writeAddress(b, 64, ticket.sender, "sender");
    writeUint256(b, 96, ticket.faceValue, "faceValue");
    writeUint256(b, 128, ticket.winProb, "winProb");
    writeUint256(b, 160, ticket.senderNonce, "senderNonce");
    writeBytes32(b, 192, ticket.recipientRandHash, "recipientRandHash");
    writeUint256(b, 224, ticket.creationRound, "creationRound");
    writeBytes32(b, 256, ticket.creationRoundBlockHash, "creationRoundBlockHash");
    return keccak_256(b);
  }

  /** The EIP-712 digest the sender signs; also the key TicketBroker marks as used. */
  digest(ticket: Ticket): Uint8Array {
    this.digestBuf.set(this.structHash(ticket), 34);
    return keccak_256(this.digestBuf);
  }
}

/** recipientRandHash = keccak256(abi.encodePacked(uint256 recipientRand)). */
// Scratch space for the per-ticket hashes below. They run synchronously from start to end,
// so one buffer each is safe and spares the allocator and GC work on the validation path.
const randScratch = Buffer.alloc(32);
const winScratch = Buffer.alloc(65 + 32);

/**
 * recipientRandHash = keccak256(abi.encodePacked(uint256 recipientRand)), from the rand as a
 * number or as its 32 big-endian bytes.
 */
export function hashRecipientRand(recipientRand: bigint | Uint8Array): string {
  if (typeof recipientRand === "bigint") {
    writeUint256(randScratch, 0, recipientRand, "recipientRand");
    return toHex(keccak_256(randScratch));
  }
  if (recipientRand.length !== 32) throw new TicketEncodingError("recipientRand is 32 bytes");
  return toHex(keccak_256(recipientRand));
}

/** A ticket wins when uint256(keccak256(sig || uint256 recipientRand)) < winProb. */
export function isWinningTicket(
  signature: Uint8Array,
  recipientRand: bigint | Uint8Array,
  winProb: bigint,
): boolean {
  if (signature.length !== 65) throw new TicketEncodingError("a signature is 65 bytes");
  winScratch.set(signature, 0);
  if (typeof recipientRand === "bigint") {
    writeUint256(winScratch, 65, recipientRand, "recipientRand");
  } else {
    if (recipientRand.length !== 32) throw new TicketEncodingError("recipientRand is 32 bytes");
    winScratch.set(recipientRand, 65);
  }
  return bytesToBigInt(keccak_256(winScratch)) < winProb;
}

/** Expected value in token wei, rounded down; exact accounting keeps the 2^256 scale instead. */
export function ticketExpectedValue(faceValue: bigint, winProb: bigint): bigint {
  return (faceValue * winProb) / WIN_PROB_SCALE;
}

export function addressFromPublicKey(uncompressed: Uint8Array): string {
  return toHex(keccak_256(uncompressed.subarray(1)).subarray(12));
}

// ---------------------------------------------------------------------------------------
// Signature back ends. libsecp256k1 (the `secp256k1` package's native binding) recovers
// about 15,000 keys per second on one core here; @noble/curves, pure JS, about 550. The
// native one is used when its binding loads; noble is the fallback so nothing breaks on a
// platform without a prebuilt binary or a compiler.

export interface SignatureBackend {
  readonly name: "native-libsecp256k1" | "noble";
  /** 64-byte r||s, low-s, RFC 6979 deterministic, plus the recovery id. */
  sign(digest: Uint8Array, privateKey: Uint8Array): { rs: Uint8Array; recid: number };
  /** 65-byte uncompressed public key, or throws. */
  recover(digest: Uint8Array, rs: Uint8Array, recid: number): Uint8Array;
}

interface NativeSecp256k1 {
  ecdsaSign(msg: Uint8Array, key: Uint8Array): { signature: Uint8Array; recid: number };
  ecdsaRecover(sig: Uint8Array, recid: number, msg: Uint8Array, compressed: boolean): Uint8Array;
}

const nobleBackend: SignatureBackend = {
  name: "noble",
  sign(digest, privateKey) {
    const sig = noble.sign(digest, privateKey, { prehash: false, format: "recovered", lowS: true });
    // noble's "recovered" format puts the recovery byte first.
    return { rs: sig.subarray(1), recid: sig[0] ?? 0 };
  },
  recover(digest, rs, recid) {
    const recovered = new Uint8Array(65);
    recovered[0] = recid;
    recovered.set(rs, 1);
    const compressed = noble.recoverPublicKey(recovered, digest, { prehash: false });
    return noble.Point.fromBytes(compressed).toBytes(false);
  },
};

function loadNativeBackend(): SignatureBackend | null {
  if (process.env.SEGMINT_SECP256K1 === "noble") return null;
  try {
    const require = createRequire(import.meta.url);
    // The package's index silently falls back to `elliptic` (slower than noble) when the
    // binding is missing, so load the binding module itself to know what we got.
    const native = require("secp256k1/bindings") as NativeSecp256k1;
    return {
      name: "native-libsecp256k1",
      sign(digest, privateKey) {
        const { signature, recid } = native.ecdsaSign(digest, privateKey);
        return { rs: signature, recid };
      },
      recover(digest, rs, recid) {
        return native.ecdsaRecover(rs, recid, digest, false);
      },
    };
  } catch {
    return null;
  }
}

const nativeBackend = loadNativeBackend();
const backend: SignatureBackend = nativeBackend ?? nobleBackend;

/** Every back end that loads here, the one in use first; tests check they agree. */
export function availableSignatureBackends(): SignatureBackend[] {
  return nativeBackend ? [nativeBackend, nobleBackend] : [nobleBackend];
}

/** Which implementation signs and recovers in this process (for logs and the benchmark). */
export function signatureBackendName(): SignatureBackend["name"] {
  return backend.name;
}

/** 65-byte r||s||v (v = 27 or 28), low-s, deterministic. */
export function signDigest(digest: Uint8Array, privateKey: Uint8Array): Uint8Array {
  const { rs, recid } = backend.sign(digest, privateKey);
  const out = new Uint8Array(65);
  out.set(rs, 0);
  out[64] = 27 + recid;
  return out;
}

/**
 * Recovers the signer of a 65-byte r||s||v signature, applying the same rules as
 * OpenZeppelin's ECDSA.recover on chain (v 27/28, s in the lower half order, r and s
 * non-zero) so a ticket that passes here cannot fail signature checks on redemption.
 * Returns the lowercase address, or null when the signature is invalid.
 */
export function recoverDigestSigner(digest: Uint8Array, signature: Uint8Array): string | null {
  if (signature.length !== 65 || digest.length !== 32) return null;
  const v = signature[64] ?? 0;
  if (v !== 27 && v !== 28) return null;
  const rs = signature.subarray(0, 64);
  const r = rs.subarray(0, 32);
  const s = rs.subarray(32, 64);
  if (
    Buffer.compare(r, ZERO_32) === 0 ||
    Buffer.compare(r, N_BYTES) >= 0 ||
    Buffer.compare(s, ZERO_32) === 0 ||
    Buffer.compare(s, HALF_N_BYTES) > 0
  ) {
    return null;
  }
  try {
    return addressFromPublicKey(backend.recover(digest, rs, v - 27));
  } catch {
    return null;
  }
}

export function addressFromPrivateKey(privateKey: Uint8Array): string {
  return addressFromPublicKey(noble.getPublicKey(privateKey, false));
}
