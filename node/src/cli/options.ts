import { InvalidArgumentError } from "commander";

/** A commander option parser for an integer within [min, max], with an error naming the range. */
export function parseIntegerOption(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
}

/** A commander option parser for a non-negative integer amount that may exceed 2^53 (wei). */
export function parseBigIntOption(value: string): bigint {
  if (!/^\d+$/.test(value.trim())) {
    throw new InvalidArgumentError(`expected a non-negative whole number, got "${value}"`);
  }
  return BigInt(value.trim());
}
