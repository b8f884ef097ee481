import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { broadcastConfigSchema } from "../../../node/src/broadcaster/options.ts";
import { parseBigIntOption } from "../../../node/src/cli/options.ts";
import { parseTokenAmount, weiAmount } from "../../../node/src/config/schemas.ts";

const TOKEN = 10n ** 18n;

describe("amounts in wei or tokens", () => {
  it("reads wei and token amounts the same way in settings and on the command line", () => {
    expect(parseTokenAmount("2.5tokens")).toBe(25n * 10n ** 17n);
    expect(parseTokenAmount("1 token")).toBe(TOKEN);
    expect(parseTokenAmount("12")).toBeUndefined();
    expect(weiAmount.parse("10tokens")).toBe(10n * TOKEN);
    expect(weiAmount.parse("123")).toBe(123n);
    expect(parseBigIntOption("0.000000000000000001tokens")).toBe(1n);
    expect(parseBigIntOption("340282366920938463463374607431768211456")).toBe(2n ** 128n);
  });

  it("refuses negative, fractional-wei and malformed amounts", () => {
    for (const bad of ["-1", "1.5", "0x10", "ten", "1.0000000000000000001tokens", "01"]) {
      expect(weiAmount.safeParse(bad).success).toBe(false);
    }
    expect(weiAmount.safeParse(-1n).success).toBe(false);
    expect(() => parseBigIntOption("-5")).toThrow(InvalidArgumentError);
    expect(() => parseBigIntOption("5 wei")).toThrow(InvalidArgumentError);
  });

  it("lets a broadcaster write its deposit and caps in tokens", () => {
    const config = broadcastConfigSchema.parse({
      input: "in.mp4",
      outDir: "out",
      rpc: "http://127.0.0.1:8545",
      deployment: "deployment.json",
      deposit: "10tokens",
      maxSpend: "2.5 tokens",
    });
    expect(config.deposit).toBe(10n * TOKEN);
    expect(config.maxSpend).toBe(25n * 10n ** 17n);
  });
});
