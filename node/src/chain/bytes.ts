const UINT256_MAX = (1n << 256n) - 1n;

/** Thrown for malformed input (bad hex, out-of-range numbers); callers map it to their codes. */
export class EncodingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EncodingError";
  }
}

// Buffer.write(hex) decodes natively straight into the target, with no intermediate buffers
// on the hot path. It stops at the first character that is not a hex pair and returns the
// bytes it wrote, so "right length, 0x prefix, every byte written" is the whole check.
function isPrefixed(value: string, length: number): boolean {
  return typeof value === "string" && value.length === length && value.startsWith("0x");
}

export function writeAddress(out: Buffer, offset: number, address: string, field: string): void {
  out.fill(0, offset, offset + 12);
  if (!isPrefixed(address, 42) || out.write(address.slice(2), offset + 12, 20, "hex") !== 20) {
    throw new EncodingError(`${field} is not a 20-byte address`);
  }
}

export function writeBytes32(out: Buffer, offset: number, value: string, field: string): void {
  if (!isPrefixed(value, 66) || out.write(value.slice(2), offset, 32, "hex") !== 32) {
    throw new EncodingError(`${field} is not a 32-byte hex value`);
  }
}

export function writeUint256(out: Buffer, offset: number, value: bigint, field: string): void {
  if (typeof value !== "bigint" || value < 0n || value > UINT256_MAX) {
    throw new EncodingError(`${field} is not a uint256`);
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
  if (!/^0x([0-9a-fA-F]{2})*$/.test(hex)) throw new EncodingError("not 0x-prefixed hex");
  const bytes = new Uint8Array(Buffer.from(hex.slice(2), "hex"));
  if (expectedLength !== undefined && bytes.length !== expectedLength) {
    throw new EncodingError(`expected ${expectedLength} bytes, got ${bytes.length}`);
  }
  return bytes;
}
