import { createRequire } from "node:module";
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
