import { z } from "zod";
import { parseTokenAmount } from "./amounts.ts";

export { parseTokenAmount };

/**
 * Schema pieces that several subsystems' settings share. Env variables and flags arrive as
 * strings, so each piece also reads the text form of its value.
 */

/**
 * A list: an array from a JSON config file, or "a,b" text from env/flags (items trimmed,
 * empty ones dropped), each item checked by `item`.
 */
export function commaList<T extends z.ZodType>(item: T) {
  return z.preprocess(
    (value) =>
      typeof value === "string"
        ? value
            .split(",")
            .map((part) => part.trim())
            .filter((part) => part !== "")
        : value,
    z.array(item),
  );
}

/** Decimal wei: 0 or digits without a leading zero, at most 78 of them (uint256 range). */
const UINT = /^(0|[1-9][0-9]{0,77})$/;

/**
 * A token (or native) amount in wei: a bigint, a decimal string, a safe integer, "N tokens" or "N SGM"
 * ("2.5tokens" is 2.5 * 10^18 wei). The orchestrator's and the broadcaster's settings share it.
 */
export const weiAmount = z.preprocess(
  (value) => (typeof value === "string" ? (parseTokenAmount(value) ?? value) : value),
  z
    .union([
      z.bigint().nonnegative(),
      z
        .string()
        .trim()
        .regex(
          UINT,
          'expected a whole number of wei (decimal digits) or tokens ("10 SGM", "10tokens")',
        ),
      z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    ])
    .transform((v) => BigInt(v)),
);

/** An on/off setting: a boolean, or "1"/"true"/"yes"/"on" and "0"/"false"/"no"/"off" from a variable. */
export const switchSetting = z.preprocess((v) => {
  if (typeof v !== "string") return v;
  const s = v.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(s)) return true;
  if (["0", "false", "no", "off"].includes(s)) return false;
  return v;
}, z.boolean());
