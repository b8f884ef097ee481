import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../../node/src/config/load.ts";
import { isSegmintError } from "../../../node/src/errors.ts";
import {
  FACE_VALUE_GAS_MULTIPLE,
  orchestratorConfigSchema,
  REDEEM_GAS,
  TYPICAL_SEGMENT_PIXELS,
  ticketEconomics,
} from "../../../node/src/orchestrator/index.ts";

const minimal = { rpc: "http://127.0.0.1:8545", deployment: "d.json", pricePerPixel: "1000" };

function problemsOf(run: () => unknown): Array<{ path: string; message: string }> {
  try {
    run();
  } catch (error) {
    if (isSegmintError(error) && error.code === "CONFIG_INVALID") {
      return error.details.problems as Array<{ path: string; message: string }>;
    }
    throw error;
  }
  throw new Error("expected CONFIG_INVALID");
}

describe("orchestrator config", () => {
  it("applies defaults to a minimal config", () => {
    const config = resolveConfig(orchestratorConfigSchema, { flags: minimal });
    expect(config.pricePerPixel).toBe(1000n);
    expect(config.httpPort).toBe(7935);
    expect(config.listen).toEqual(["/ip4/0.0.0.0/tcp/4001"]);
    expect(config.dataDir).toBe(".segmint");
    expect(config.reward).toBe(true);
    expect(config.rewardCut).toBeUndefined();
    expect(config.stake).toBeUndefined();
  });

  it("reports every bad setting at once, each with its path", () => {
    const problems = problemsOf(() =>
      resolveConfig(orchestratorConfigSchema, {
        file: { rpc: "not a url", bogus: 1 },
        flags: {
          pricePerPixel: "-5",
          rewardCut: "2000000",
          httpPort: "70000",
          // --listen and --announce also take HOST:PORT, read at start-up (p2p/addresses.ts).
          bootstrap: ["tcp/4001"],
          winProb: "1.5",
        },
      }),
    );
    const paths = problems.map((p) => p.path).sort();
    expect(paths).toEqual(
      expect.arrayContaining([
        "rpc",
        "deployment",
        "pricePerPixel",
        "rewardCut",
        "httpPort",
        "bootstrap.0",
        "winProb",
      ]),
    );
    // The unknown key in the file is reported too (a typo must not be silently ignored).
    expect(problems.some((p) => p.message.includes("bogus") || p.path === "bogus")).toBe(true);
  });

  it("layers file < SEGMINT_* env < flags", () => {
    const config = resolveConfig(orchestratorConfigSchema, {
      file: { ...minimal, httpPort: 1111, maxSessions: 2, stake: "5" },
      env: {
        SEGMINT_HTTP_PORT: "2222",
        SEGMINT_PRICE_PER_PIXEL: "7",
        SEGMINT_BOOTSTRAP: "/ip4/1.2.3.4/tcp/1/p2p/x,/ip4/5.6.7.8/tcp/2/p2p/y",
        SEGMINT_REWARD: "false",
        SEGMINT_PRIVATE_KEY: "0xabc",
      },
      flags: { httpPort: "3333", faceValue: "2.5tokens" },
    });
    expect(config.httpPort).toBe(3333);
    expect(config.pricePerPixel).toBe(7n);
    expect(config.maxSessions).toBe(2);
    expect(config.stake).toBe(5n);
    expect(config.bootstrap).toHaveLength(2);
    expect(config.reward).toBe(false);
    expect(config.privateKey).toBe("0xabc");
    expect(config.faceValue).toBe(25n * 10n ** 17n);
  });
});

describe("ticket economics", () => {
  const base = { pricePerPixel: 1000n, ticketEvSegments: 1 };
  const gasPrice = 2_000_000_000n;

  it("defaults to a typical segment's fee per ticket, face value 100x the redemption gas", () => {
    const e = ticketEconomics(base, gasPrice);
    expect(e.ticketEV).toBe(1000n * TYPICAL_SEGMENT_PIXELS);
    expect(e.minFaceValue).toBe(gasPrice * REDEEM_GAS);
    expect(e.faceValue).toBe(gasPrice * REDEEM_GAS * FACE_VALUE_GAS_MULTIPLE);
  });

  it("weighs the redemption gas (ETH) against face values (tokens) at the token price", () => {
    // One token for 0.0004 ETH: the same gas costs 2,500x more tokens than at parity.
    const price = { numerator: 4n, denominator: 10_000n };
    const e = ticketEconomics(base, gasPrice, price);
    expect(e.redeemGasCost).toBe(gasPrice * REDEEM_GAS);
    expect(e.minFaceValue).toBe(gasPrice * REDEEM_GAS * 2_500n);
    expect(e.faceValue).toBe(gasPrice * REDEEM_GAS * 2_500n * FACE_VALUE_GAS_MULTIPLE);
    // A face value worth its gas at parity is refused once the token is worth less.
    const face = gasPrice * REDEEM_GAS * 10n;
    expect(ticketEconomics({ ...base, faceValue: face }, gasPrice).faceValue).toBe(face);
    expect(() => ticketEconomics({ ...base, faceValue: face }, gasPrice, price)).toThrow(
      expect.objectContaining({ code: "FACE_VALUE_BELOW_GAS" }),
    );
  });

  it("reads the token price setting as an exact decimal and refuses anything else", () => {
    const config = (tokenPriceEth: string) =>
      orchestratorConfigSchema.safeParse({
        rpc: "http://127.0.0.1:8545",
        deployment: "d.json",
        pricePerPixel: "1",
        tokenPriceEth,
      });
    const parsed = config("0.00040");
    expect(parsed.success && parsed.data.tokenPriceEth).toEqual({
      numerator: 1n,
      denominator: 2_500n,
    });
    for (const bad of ["0", "-1", "1e-4", "abc", ""]) expect(config(bad).success).toBe(false);
  });

  it("derives the face value from the expected value and a win probability", () => {
    const e = ticketEconomics({ ...base, ticketEv: 10n ** 16n, winProb: 0.25 }, gasPrice);
    expect(e.ticketEV).toBe(10n ** 16n);
    expect(e.faceValue).toBe(4n * 10n ** 16n);
  });

  it("derives the expected value from a face value and a win probability", () => {
    const e = ticketEconomics({ ...base, faceValue: 10n ** 18n, winProb: 0.5 }, gasPrice);
    expect(e.ticketEV).toBe(5n * 10n ** 17n);
  });

  it("refuses settings it cannot honour with coded errors", () => {
    const code = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return isSegmintError(error) ? error.code : "uncoded";
      }
      return "none";
    };
    expect(
      code(() =>
        ticketEconomics({ ...base, ticketEv: 1n, faceValue: 10n ** 18n, winProb: 0.5 }, gasPrice),
      ),
    ).toBe("TICKET_PARAMS_INVALID");
    // A face value that does not pay for its own redemption is refused at start-up.
    expect(code(() => ticketEconomics({ ...base, winProb: 0.5 }, gasPrice))).toBe(
      "FACE_VALUE_BELOW_GAS",
    );
    expect(code(() => ticketEconomics({ ...base, pricePerPixel: 0n }, gasPrice))).toBe(
      "TICKET_PARAMS_INVALID",
    );
    expect(
      code(() =>
        ticketEconomics({ ...base, ticketEv: 10n ** 18n, faceValue: 10n ** 17n }, gasPrice),
      ),
    ).toBe("TICKET_PARAMS_INVALID");
  });
});
