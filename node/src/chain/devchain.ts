import path from "node:path";
import { fileURLToPath } from "node:url";
import { HDNodeWallet, Mnemonic } from "ethers";
import { createHardhatRuntimeEnvironment } from "hardhat/hre";
import { ChainError } from "./errors.ts";

/** Hardhat's well-known development mnemonic: every account it derives is public knowledge. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";
/** Hardhat's chain id for local development chains. */
export const DEV_CHAIN_ID = 31337;
/** Ether given to each dev account (Hardhat's default). */
export const DEV_ACCOUNT_BALANCE_WEI = 10_000n * 10n ** 18n;

export interface DevAccount {
  address: string;
  privateKey: string;
}

export interface DevChainOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /**
   * Besides mining a block per transaction, mine one every this many milliseconds so that
   * rounds (counted in blocks) advance on an idle chain; 0 mines only on transactions.
   */
  blockIntervalMs?: number;
  /** How many funded accounts to derive from the dev mnemonic (Hardhat's default: 20). */
  accounts?: number;
}

export interface DevChain {
  url: string;
  port: number;
  chainId: number;
  accounts: DevAccount[];
  close(): Promise<void>;
  /** Resolves when the server has stopped, whoever stopped it. */
  closed: Promise<void>;
}

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** The dev accounts in derivation order (m/44'/60'/0'/0/i), as Hardhat funds them. */
export function devAccounts(count: number): DevAccount[] {
  const mnemonic = Mnemonic.fromPhrase(DEV_MNEMONIC);
  return Array.from({ length: count }, (_, i) => {
    const wallet = HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${i}`);
    return { address: wallet.address, privateKey: wallet.privateKey };
  });
}

/**
 * Starts an in-process Hardhat (EDR) chain behind a JSON-RPC server on 127.0.0.1: the local
 * testnet of `segmint chain` and of the devnet.
 */
export async function startDevChain(options: DevChainOptions = {}): Promise<DevChain> {
  const port = options.port ?? 8545;
  const accountCount = options.accounts ?? 20;
  const intervalMs = options.blockIntervalMs ?? 1000;
  const { default: userConfig } = await import("../../../hardhat.config.ts");
  const hre = await createHardhatRuntimeEnvironment(userConfig, {}, projectRoot);
  const server = await hre.network.createServer(
    {
      network: "default",
      override: {
        chainId: DEV_CHAIN_ID,
        accounts: {
          mnemonic: DEV_MNEMONIC,
          count: accountCount,
          accountsBalance: DEV_ACCOUNT_BALANCE_WEI,
        },
        mining: { auto: true, interval: intervalMs },
        // Sub-second block intervals (used by tests) would otherwise be refused by Hardhat.
        allowBlocksWithSameTimestamp: intervalMs > 0 && intervalMs < 1000,
      },
    },
    "127.0.0.1",
    port,
  );
  let address: { address: string; port: number };
  try {
    address = await server.listen();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "EADDRINUSE") {
      throw new ChainError(
        "CHAIN_PORT_IN_USE",
        `port ${port} on 127.0.0.1 is already in use`,
        { port },
        { hint: "stop what is using it or pass --port with another port (0 picks a free one)" },
      );
    }
    throw error;
  }
  return {
    url: `http://${address.address}:${address.port}`,
    port: address.port,
    chainId: DEV_CHAIN_ID,
    accounts: devAccounts(accountCount),
    close: () => server.close(),
    closed: server.afterClosed(),
  };
}
