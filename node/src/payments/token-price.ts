/**
 * Tickets pay in Segmint's ERC-20 token; redeeming them costs gas in the chain's native coin
 * (ETH on Ethereum and its L2s). Every decision that weighs one against the other (is a face
 * value worth its redemption gas, what face value to ask for, is this winner still worth
 * sending) converts through a token price.
 *
 * A price is a ratio: native wei paid for one token wei. Both have 18 decimals, so it is also
 * "ETH per token" (0.0004 means one token trades for 0.0004 ETH).
 */
export interface TokenPrice {
  numerator: bigint;
  denominator: bigint;
}

/**
 * Where the price comes from. The orchestrator reads it each time it decides, so a source backed
 * by an on-chain oracle (a price feed contract read through the chain session) can replace the
 * fixed setting without touching the callers.
 */
export interface TokenPriceSource {
  /** A short description for logs and /status ("setting", "feed 0x..."). */
  readonly origin: string;
  /** Native wei per token wei; rejects when the price cannot be read. */
  nativePerToken(): Promise<TokenPrice>;
}

/** One token for one ETH: the value used on dev chains, where neither is worth anything. */
export const PARITY: TokenPrice = { numerator: 1n, denominator: 1n };

/**
 * Reads a positive decimal ("0.0004", "2", "1e-4" is refused) into an exact ratio. Returns null
 * for anything else so schemas can report it with their own message.
 */
export function parseTokenPrice(text: string): TokenPrice | null {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) return null;
  const whole = match[1] ?? "0";
  const fraction = match[2] ?? "";
  if (fraction.length > 36) return null;
  const numerator = BigInt(whole + fraction);
  if (numerator === 0n) return null;
  return reduce({ numerator, denominator: 10n ** BigInt(fraction.length) });
}

/** The ratio as a decimal string (up to 18 decimals, trailing zeros dropped). */
export function formatTokenPrice(price: TokenPrice): string {
  const scaled = (price.numerator * 10n ** 18n) / price.denominator;
  const whole = scaled / 10n ** 18n;
  const fraction = (scaled % 10n ** 18n).toString().padStart(18, "0").replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : whole.toString();
}

/**
 * Token wei worth `nativeWei` at `price`, rounded up: a gas cost converted to tokens must not
 * come out cheaper than it is.
 */
export function nativeToTokens(nativeWei: bigint, price: TokenPrice): bigint {
  const product = nativeWei * price.denominator;
  return (product + price.numerator - 1n) / price.numerator;
}

/** Native wei worth `tokenWei` at `price`, rounded down (what a face value is worth in ETH). */
export function tokensToNative(tokenWei: bigint, price: TokenPrice): bigint {
  return (tokenWei * price.numerator) / price.denominator;
}

export class FixedTokenPrice implements TokenPriceSource {
  readonly origin = "setting";
  constructor(private readonly price: TokenPrice) {
    if (price.numerator <= 0n || price.denominator <= 0n) {
      throw new RangeError("a token price is a positive ratio");
    }
  }

  async nativePerToken(): Promise<TokenPrice> {
    return this.price;
  }
}

function reduce(price: TokenPrice): TokenPrice {
  let a = price.numerator;
  let b = price.denominator;
  while (b !== 0n) [a, b] = [b, a % b];
  return { numerator: price.numerator / a, denominator: price.denominator / a };
}
