import { JsonRpcProvider, Wallet } from "ethers";
import { describe, expect, it } from "vitest";
import { loadWallet } from "../../../node/src/chain/keys.ts";
import { checkRpcUrl } from "../../../node/src/chain/session.ts";
import {
  insufficientEth,
  lacksFunds,
  nonceTaken,
  preflight,
  TxSender,
} from "../../../node/src/chain/tx.ts";
import {
  exactTokens,
  formatEth,
  formatTokens,
  parseAmount,
} from "../../../node/src/config/amounts.ts";
import { isSegmintError } from "../../../node/src/errors.ts";
import { silentLogger } from "../../../node/src/log/index.ts";

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return isSegmintError(error) ? error.code : "uncoded";
  }
  return "none";
}

const TOKEN = 10n ** 18n;

describe("amounts: one format in, one format out", () => {
  it("reads wei, tokens and SGM", () => {
    expect(parseAmount("1500")).toBe(1500n);
    expect(parseAmount("1token")).toBe(TOKEN);
    expect(parseAmount("2.5 tokens")).toBe(25n * 10n ** 17n);
    expect(parseAmount("1SGM")).toBe(TOKEN);
    expect(parseAmount("0.5 sgm")).toBe(TOKEN / 2n);
    expect(parseAmount("0.000000000000000001tokens")).toBe(1n);
    for (const bad of ["lots", "-1", "1.5", "1e18", "1.0000000000000000001tokens", "", "1 ETH"]) {
      expect(codeOf(() => parseAmount(bad))).toBe("BAD_AMOUNT");
    }
  });

  it("prints tokens with the unit and at most four decimals, never a non-zero amount as 0", () => {
    expect(formatTokens(0n)).toBe("0 SGM");
    expect(formatTokens(TOKEN)).toBe("1 SGM");
    expect(formatTokens(15n * 10n ** 17n)).toBe("1.5 SGM");
    // 499.999999999999999983 after bonding 500 reads 500; a long fraction is cut to 4 digits.
    expect(formatTokens(500n * TOKEN - 17n)).toBe("500 SGM");
    expect(formatTokens(22428571428571428571420n)).toBe("22428.5714 SGM");
    expect(formatTokens(1n)).toBe("0.000000000000000001 SGM");
    expect(formatEth(10n ** 16n)).toBe("0.01 ETH");
    expect(exactTokens(500n * TOKEN - 17n)).toBe("499.999999999999999983");
  });
});

describe("chain session checks", () => {
  it("refuses an RPC that is not a URL before dialling anything", () => {
    expect(codeOf(() => checkRpcUrl("http://127.0.0.1:8545"))).toBe("none");
    expect(codeOf(() => checkRpcUrl("wss://rpc.example.org/v1"))).toBe("none");
    for (const bad of ["127.0.0.1:8545", "htp://127.0.0.1:8545", "localhost", "", "http://"]) {
      expect(codeOf(() => checkRpcUrl(bad))).toBe("RPC_URL_INVALID");
    }
  });

  it("refuses 32 bytes of hex that are no key with KEY_INVALID, not the curve library's text", async () => {
    const codeOfKey = (privateKey: string) =>
      loadWallet({ privateKey }).then(
        () => "none",
        (error: unknown) => (isSegmintError(error) ? error.code : "uncoded"),
      );
    expect(await codeOfKey(`0x${"0".repeat(64)}`)).toBe("KEY_INVALID");
    expect(await codeOfKey("f".repeat(64))).toBe("KEY_INVALID");
    expect(await codeOfKey("0x12")).toBe("KEY_INVALID");
    expect(await codeOfKey(`0x${"0".repeat(63)}1`)).toBe("none");
  });

  it("recognizes a node's insufficient-funds refusal however it is worded and wrapped", () => {
    const hardhat = new Error("could not coalesce error", {
      cause: new Error("Sender doesn't have enough funds to send tx. The max upfront cost is: 1"),
    });
    expect(lacksFunds(hardhat)).toBe(true);
    expect(lacksFunds(new Error("insufficient funds for gas * price + value"))).toBe(true);
    expect(lacksFunds(new Error("nonce too low"))).toBe(false);
    // A nonce another process used first is told apart from every other failure.
    const taken = new Error("could not coalesce error", {
      cause: new Error("Nonce too low. Expected nonce to be 7 but got 6."),
    });
    expect(nonceTaken(taken)).toBe(true);
    expect(nonceTaken(Object.assign(new Error("x"), { code: "NONCE_EXPIRED" }))).toBe(true);
    expect(nonceTaken(hardhat)).toBe(false);
    const error = insufficientEth("0xabc", "bond", 10n ** 15n, 3n * 10n ** 15n);
    expect(error.code).toBe("INSUFFICIENT_ETH");
    expect(error.details).toMatchObject({
      address: "0xabc",
      shortfall: (2n * 10n ** 15n).toString(),
    });
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

  it("sends once more when another process used the nonce, and only then", async () => {
    // Nothing is dialled: the sends below are fakes, the provider is never asked.
    const provider = new JsonRpcProvider("http://127.0.0.1:1", 31337, { staticNetwork: true });
    const tx = new TxSender(new Wallet(Wallet.createRandom().privateKey), provider, silentLogger());
    try {
      let calls = 0;
      const sent = await tx.run("withdrawFees", async () => {
        calls++;
        if (calls === 1) throw new Error("Nonce too low. Expected nonce to be 7 but got 6.");
        return "0xhash";
      });
      expect([sent, calls]).toEqual(["0xhash", 2]);
      let other = 0;
      const failure = new Error("execution reverted");
      await expect(
        tx.run("reward", async () => {
          other++;
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(other).toBe(1);
    } finally {
      provider.destroy();
    }
  });
});
