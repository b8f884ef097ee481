import { SegmintError } from "../errors.ts";

/**
 * One amount format for every command, setting and message. Input: whole wei ("1500"), or
 * tokens with a unit ("1.5 SGM", "1000tokens", "1 token"). Output: tokens with the unit and a
 * few decimals ("1.5 SGM"); --json output keeps exact wei as decimal strings.
 */

/** The token's symbol (Token.sol) and its decimals. */
export const TOKEN_SYMBOL = "SGM";
const DECIMALS = 18;
const ONE = 10n ** BigInt(DECIMALS);

const WITH_UNIT = /^(\d+)(?:\.(\d{1,18}))?\s*(tokens?|sgm)$/i;
const WHOLE_WEI = /^\d+$/;

/** "2.5tokens", "1 SGM", "1000 token" -> wei; undefined for text without a token unit. */
export function parseTokenAmount(text: string): bigint | undefined {
  const match = WITH_UNIT.exec(text.trim());
  if (!match) return undefined;
  const whole = BigInt(match[1] ?? "0");
  const fraction = (match[2] ?? "").padEnd(DECIMALS, "0");
  return whole * ONE + BigInt(fraction);
}

/** "2.5 ETH", "1eth" -> wei of the chain's native currency; undefined without the unit. */
export function parseEthAmount(text: string): bigint | undefined {
  const match = /^(\d+)(?:\.(\d{1,18}))?\s*eth$/i.exec(text.trim());
  if (!match) return undefined;
  return BigInt(match[1] ?? "0") * ONE + BigInt((match[2] ?? "").padEnd(DECIMALS, "0"));
}

/**
 * An amount of the chain's native currency from a person: wei or "N ETH". A BAD_AMOUNT error
 * names `what` (the flag or argument) and shows the accepted forms.
 */
export function parseEthOrWei(text: string, what = "amount"): bigint {
  const value = text.trim();
  if (WHOLE_WEI.test(value)) return BigInt(value);
  const eth = parseEthAmount(value);
  if (eth !== undefined) return eth;
  throw new SegmintError(
    "BAD_AMOUNT",
    `${what} "${text}" is not an amount of ETH`,
    { what, value: text },
    { hint: 'give wei ("1000000000000000000") or ETH ("0.5 ETH")' },
  );
}

/**
 * An amount of tokens from a person: wei, "N tokens" or "N SGM". A BAD_AMOUNT error names
 * `what` (the flag or argument) and shows the accepted forms.
 */
export function parseAmount(text: string, what = "amount"): bigint {
  const value = text.trim();
  if (WHOLE_WEI.test(value)) return BigInt(value);
  const tokens = parseTokenAmount(value);
  if (tokens !== undefined) return tokens;
  throw new SegmintError(
    "BAD_AMOUNT",
    `${what} "${text}" is not an amount`,
    { what, value: text },
    { hint: `give wei ("1000000000000000000") or tokens ("1 ${TOKEN_SYMBOL}", "2.5tokens")` },
  );
}

/**
 * Wei shown with its unit for people: at most `decimals` decimals, rounded to the nearest, so
 * 499.999999999999999983 reads 500. An amount too small to show that way is shown exactly,
 * so a non-zero amount never reads 0.
 */
export function formatUnits(wei: bigint, unit: string, decimals = 4): string {
  const negative = wei < 0n;
  const abs = negative ? -wei : wei;
  const step = 10n ** BigInt(DECIMALS - decimals);
  let rounded = ((abs + step / 2n) / step) * step;
  if (rounded === 0n && abs !== 0n) rounded = abs;
  const whole = rounded / ONE;
  const fraction = (rounded % ONE).toString().padStart(DECIMALS, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction.length > 0 ? `.${fraction}` : ""} ${unit}`;
}

/** Token wei for people: 1500000000000000000n -> "1.5 SGM". */
export function formatTokens(wei: bigint): string {
  return formatUnits(wei, TOKEN_SYMBOL);
}

/** Native-currency wei for people: 10n ** 16n -> "0.01 ETH". */
export function formatEth(wei: bigint): string {
  return formatUnits(wei, "ETH");
}

/** Token wei as exact decimal tokens, no unit and no rounding: 1500000000000000000n -> "1.5". */
export function exactTokens(wei: bigint): string {
  const whole = wei / ONE;
  const fraction = (wei % ONE).toString().padStart(DECIMALS, "0").replace(/0+$/, "");
  return fraction.length > 0 ? `${whole}.${fraction}` : whole.toString();
}
