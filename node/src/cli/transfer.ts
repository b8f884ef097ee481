import type { Command } from "commander";
import { getAddress, isAddress } from "ethers";
import { DEV_CHAIN_ID, devAccounts } from "../chain/devchain.ts";
import { ChainError } from "../chain/errors.ts";
import { requireTokens } from "../chain/funding.ts";
import { openSigningSession, type SigningSession } from "../chain/session.ts";
import {
  formatEth,
  formatTokens,
  parseAmount,
  parseEthAmount,
  parseEthOrWei,
  TOKEN_SYMBOL,
} from "../config/amounts.ts";
import { SegmintError } from "../errors.ts";
import { silentLogger } from "../log/index.ts";
import {
  addChainFlags,
  addressFlag,
  type ChainFlags,
  chainTarget,
  report,
  withSigningSession,
} from "./chain-flags.ts";

/** Gas of a plain ETH transfer (fixed by the protocol). */
const ETH_TRANSFER_GAS = 21_000n;

/** What a faucet call sends when no amount is named: enough to register, stake and broadcast. */
const FAUCET_TOKENS = "1000 SGM";
const FAUCET_ETH = "10 ETH";

interface TransferFlags extends ChainFlags {
  to?: string;
  json?: boolean;
}

interface FaucetFlags extends ChainFlags {
  tokens: string;
  eth: string;
  json?: boolean;
}

type Sent = { asset: "ETH" | typeof TOKEN_SYMBOL; amount: bigint; tx: string };

/** Sends `amount` of ETH from the session's account, its gas and value checked first. */
async function sendEth(s: SigningSession, to: string, amount: bigint): Promise<string> {
  await s.tx.requireEth("an ETH transfer", ETH_TRANSFER_GAS, amount);
  return s.tx.sendAndWait("transfer ETH", () => s.tx.signer.sendTransaction({ to, value: amount }));
}

/** Sends `amount` token wei from the session's account, its balance checked first. */
async function sendTokens(s: SigningSession, to: string, amount: bigint): Promise<string> {
  await requireTokens(s, amount, "transfer");
  return s.tx.checkAndSend("transfer", s.clients.token.transfer, to, amount);
}

/** An amount with ETH as its unit is native currency; anything else is tokens. */
function parseTransferAmount(text: string): { eth: boolean; amount: bigint } {
  const eth = parseEthAmount(text);
  if (eth !== undefined) return { eth: true, amount: eth };
  return { eth: false, amount: parseAmount(text) };
}

function requireAddress(text: string, what: string): string {
  if (!isAddress(text)) {
    throw new SegmintError(
      "BAD_ADDRESS",
      `${what} "${text}" is not an address`,
      { value: text },
      { hint: "give a 0x-prefixed address of 40 hex digits" },
    );
  }
  return getAddress(text);
}

function sentLine(from: string, to: string, sent: Sent[]): string {
  const parts = sent.map(
    (s) => `${s.asset === "ETH" ? formatEth(s.amount) : formatTokens(s.amount)} (tx ${s.tx})`,
  );
  return `Sent ${parts.join(" and ")} from ${from} to ${to}`;
}

export function registerTransfer(program: Command): void {
  addChainFlags(
    program
      .command("transfer <amount>")
      .summary(`send ${TOKEN_SYMBOL} tokens or ETH to an address`)
      .description(
        `Send tokens (wei, "N tokens" or "N ${TOKEN_SYMBOL}") or the chain's ETH ("N ETH") from the\n` +
          "signing account to --to. The balance and the gas are checked before anything is sent.",
      )
      .requiredOption("--to <address>", "who receives it")
      .option("--json", "print the result as one JSON object"),
  ).action(async (amountText: string, flags: TransferFlags) => {
    const { eth, amount } = parseTransferAmount(amountText);
    const to = addressFlag("--to", flags.to) ?? "";
    if (amount === 0n) {
      throw new SegmintError("BAD_AMOUNT", "nothing to transfer: give an amount above 0", {
        value: amountText,
      });
    }
    await withSigningSession(flags, async (s) => {
      const tx = eth ? await sendEth(s, to, amount) : await sendTokens(s, to, amount);
      const sent: Sent = { asset: eth ? "ETH" : TOKEN_SYMBOL, amount, tx };
      report(
        flags,
        { action: "transfer", from: s.address, to, ...sent },
        sentLine(s.address, to, [sent]),
      );
    });
  });

  addChainFlags(
    program
      .command("faucet <address>")
      .summary("on a local dev chain: give an address tokens and ETH from dev account #0")
      .description(
        "On a local development chain (chain id 31337, e.g. `segmint chain`), send tokens and ETH\n" +
          "from dev account #0, which deployed the contracts and holds the initial supply, to\n" +
          "ADDRESS: what a new key needs to register, stake or broadcast. Refused on any other chain.",
      )
      .option("--tokens <amount>", `tokens to send (0 for none)`, FAUCET_TOKENS)
      .option("--eth <amount>", "ETH to send, in wei or N ETH (0 for none)", FAUCET_ETH)
      .option("--json", "print the result as one JSON object"),
    false,
  ).action(async (addressText: string, flags: FaucetFlags) => {
    const to = requireAddress(addressText, "address");
    const tokens = parseAmount(flags.tokens, "--tokens");
    const eth = parseEthOrWei(flags.eth, "--eth");
    const [funder] = devAccounts(1);
    if (funder === undefined) throw new Error("the dev mnemonic derived no account");
    const { rpc, file } = chainTarget(flags);
    const s = await openSigningSession({
      rpc,
      deployment: file,
      key: { privateKey: funder.privateKey },
      log: silentLogger(),
    });
    try {
      if (s.chainId !== BigInt(DEV_CHAIN_ID)) {
        throw new ChainError(
          "NOT_DEV_CHAIN",
          `the faucet only runs on a local dev chain (id ${DEV_CHAIN_ID}); ${rpc} serves chain ${s.chainId}`,
          { chainId: s.chainId.toString() },
          {
            hint: "on other chains get tokens with `segmint transfer` from an account that holds some",
          },
        );
      }
      const sent: Sent[] = [];
      if (tokens > 0n) {
        sent.push({ asset: TOKEN_SYMBOL, amount: tokens, tx: await sendTokens(s, to, tokens) });
      }
      if (eth > 0n) sent.push({ asset: "ETH", amount: eth, tx: await sendEth(s, to, eth) });
      report(
        flags,
        { action: "faucet", from: s.address, to, sent },
        sent.length === 0 ? "Nothing sent (both amounts are 0)" : sentLine(s.address, to, sent),
      );
    } finally {
      s.close();
    }
  });
}
