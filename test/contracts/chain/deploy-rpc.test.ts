import { JsonRpcProvider, NonceManager, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectContracts, deploySegmint } from "../../../node/src/chain/deploy.ts";
import { type DevChain, startDevChain } from "../../../node/src/chain/devchain.ts";
import { TEST_PARAMS } from "../helpers.ts";

// deploySegmint over real JSON-RPC (HTTP on 127.0.0.1), the way `segmint deploy` uses it.
let chain: DevChain;
let provider: JsonRpcProvider;
beforeAll(async () => {
  chain = await startDevChain({ port: 0, blockIntervalMs: 0, accounts: 2 });
  provider = new JsonRpcProvider(chain.url, undefined, { staticNetwork: true });
});
afterAll(async () => {
  provider?.destroy();
  await chain?.close();
});

describe("deploySegmint over JSON-RPC", () => {
  it("deploys twice in a row from one account, counting nonces itself", async () => {
    const key = chain.accounts[0]?.privateKey;
    if (key === undefined) throw new Error("no dev account");
    const wallet = new Wallet(key, provider);
    const first = await deploySegmint(wallet, TEST_PARAMS);
    // A second deployment with a NonceManager must pick up where the first left off.
    const second = await deploySegmint(new NonceManager(wallet), TEST_PARAMS);
    expect(first.chainId).toBe(chain.chainId);
    expect(
      new Set([...Object.values(first.contracts), ...Object.values(second.contracts)]).size,
    ).toBe(12);
    expect(second.deploymentBlock).toBeGreaterThan(first.deploymentBlock);
    const c = await connectContracts(second, provider);
    expect(await c.BondingManager.ticketBroker()).toBe(second.contracts.TicketBroker);
    expect(await c.Token.minter()).toBe(second.contracts.Minter);
  });
});
