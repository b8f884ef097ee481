import { createRequire } from "node:module";
import { secp256k1 as noble } from "@noble/curves/secp256k1.js";
import { toHex } from "./bytes.ts";
import { keccak_256 } from "./keccak.ts";

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = SECP256K1_N >> 1n;
// The same bounds as bytes, so checking a signature's r and s needs no bigint conversion.
const N_BYTES = Buffer.from(SECP256K1_N.toString(16).padStart(64, "0"), "hex");
const HALF_N_BYTES = Buffer.from(HALF_N.toString(16).padStart(64, "0"), "hex");
const ZERO_32 = Buffer.alloc(32);

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
