import { describe, expect, it } from "vitest";
import {
  FixedTokenPrice,
  formatTokenPrice,
  nativeToTokens,
  PARITY,
  parseTokenPrice,
  tokensToNative,
} from "../../../node/src/payments/token-price.ts";

describe("token price", () => {
  it("parses decimals exactly and reduces them", () => {
    expect(parseTokenPrice("0.0004")).toEqual({ numerator: 1n, denominator: 2_500n });
    expect(parseTokenPrice("2")).toEqual({ numerator: 2n, denominator: 1n });
    expect(parseTokenPrice(" 1.50 ")).toEqual({ numerator: 3n, denominator: 2n });
    for (const bad of ["0", "0.000", "-0.1", "1e-4", ".5", "1.", "0x10", ""]) {
      expect(parseTokenPrice(bad)).toBeNull();
    }
  });

  it("converts gas costs to tokens rounding up, and face values to ETH rounding down", () => {
    const price = { numerator: 1n, denominator: 3n }; // a token is worth a third of an ETH
    expect(nativeToTokens(10n, price)).toBe(30n);
    expect(nativeToTokens(10n, { numerator: 3n, denominator: 1n })).toBe(4n); // 3.33 up
    expect(tokensToNative(10n, { numerator: 3n, denominator: 1n })).toBe(30n);
    expect(tokensToNative(10n, price)).toBe(3n); // 3.33 down
    expect(nativeToTokens(123n, PARITY)).toBe(123n);
  });

  it("prints the price back as a decimal", () => {
    expect(formatTokenPrice({ numerator: 1n, denominator: 2_500n })).toBe("0.0004");
    expect(formatTokenPrice(PARITY)).toBe("1");
  });

  it("refuses a price that is not positive", async () => {
    expect(() => new FixedTokenPrice({ numerator: 0n, denominator: 1n })).toThrow(RangeError);
    await expect(new FixedTokenPrice(PARITY).nativePerToken()).resolves.toEqual(PARITY);
  });
});
