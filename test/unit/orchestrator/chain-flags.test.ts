import { describe, expect, it } from "vitest";
import { formatTokens, parseAmount, preflight } from "../../../node/src/cli/chain-flags.ts";
import { isSegmintError } from "../../../node/src/errors.ts";

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return isSegmintError(error) ? error.code : "uncoded";
  }
  return "none";
}

describe("staking and deposit command helpers", () => {
  it("reads amounts as token wei or as tokens with a unit", () => {
    expect(parseAmount("1500")).toBe(1500n);
    expect(parseAmount("1token")).toBe(10n ** 18n);
    expect(parseAmount("2.5 tokens")).toBe(25n * 10n ** 17n);
    expect(parseAmount("0.000000000000000001tokens")).toBe(1n);
    for (const bad of ["lots", "-1", "1.5", "1e18", "1.0000000000000000001tokens", ""]) {
      expect(codeOf(() => parseAmount(bad))).toBe("BAD_AMOUNT");
    }
  });

  it("prints token wei as tokens without losing digits", () => {
    expect(formatTokens(0n)).toBe("0");
    expect(formatTokens(10n ** 18n)).toBe("1");
    expect(formatTokens(15n * 10n ** 17n)).toBe("1.5");
    expect(formatTokens(1n)).toBe("0.000000000000000001");
  });

  it("turns a contract's custom error into TX_REVERTED with its name, arguments and a hint", async () => {
    const revert = Object.assign(new Error("execution reverted"), {
      revert: { name: "BondingManagerInsufficientStake", args: [5n, 3n] },
    });
    const error = await preflight("unbond", async () => {
      throw revert;
    }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(isSegmintError(error)).toBe(true);
    if (!isSegmintError(error)) return;
    expect(error.code).toBe("TX_REVERTED");
    expect(error.details).toMatchObject({
      revert: "BondingManagerInsufficientStake",
      args: ["5", "3"],
    });
    expect(error.hint).toBeDefined();
    // Anything else (a dead RPC, say) passes through untouched.
    const plain = new Error("socket hang up");
    await expect(preflight("unbond", async () => Promise.reject(plain))).rejects.toBe(plain);
  });
});
