/**
 * `npm run gas [-- --json]`
 *
 * Deploys Segmint with the production defaults (node/src/chain/deploy.ts `deploySegmint`,
 * `defaultDeployParams`) on Hardhat's in-process chain, drives every user-facing operation in
 * realistic state, and reports each transaction's gasUsed (intrinsic 21,000 and calldata
 * included: what the sender pays for). With --json it prints ONE JSON object mapping
 * operation -> gas (a number) on stdout; otherwise a table. Gas is deterministic for a given
 * compiler and state, so a single run is the measurement. The state each figure is taken in
 * is described in docs/gas.md (STATE below says the same in one line per key).
 */
import { parseArgs } from "node:util";
import { generateKeyPairFromSeed } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import {
  type ContractRunner,
  type ContractTransactionResponse,
  getBytes,
  keccak256,
  toUtf8Bytes,
  Wallet,
} from "ethers";
import hre, { network } from "hardhat";
import type { TicketBroker } from "../node/src/chain/contracts.ts";
import { segmintClients } from "../node/src/chain/contracts.ts";
import { defaultDeployParams, deploySegmint } from "../node/src/chain/deploy.ts";
import { hashRecipientRand, MAX_WIN_PROB, type Ticket } from "../node/src/chain/ticket.ts";
import { signPeerIdClaim } from "../node/src/p2p/peer-claim.ts";

const { values } = parseArgs({ options: { json: { type: "boolean", default: false } } });

const TOKEN = 10n ** 18n;
const ROUND_LENGTH = defaultDeployParams.roundLength;
const ETH = 10n ** 20n;
const DELEGATORS_FOR_SCALING = 50;
const BATCH = 10;

/** One line per key: the state in which the figure is taken (docs/gas.md repeats it). */
export const STATE: Record<string, string> = {
  setOrchestratorParams: "first registration of a fresh account (cold slots)",
  bond: "a new delegator's first bond to an orchestrator that already has stake",
  bondMore: "the same delegator adding to its bond (warm record)",
  unbond: "partial unbond into the delegator's first lock",
  rebond: "rebond of that lock",
  withdrawStake: "withdraw of a lock after the unbonding period",
  reward:
    "first reward() of a round (nothing initializes the round), orchestrator with 1 delegator",
  rewardWith50Delegators: "the same, orchestrator with 50 delegators",
  rewardConvertingJoins: "reward() that also turns stake that joined last round into shares",
  claimEarnings: "delegator's first settlement: fees credited over 3 rounds, locked",
  withdrawFees: "orchestrator withdrawing part of its fees once their lock is over",
  fundDepositAndReserve: "a sender's first funding of both (cold slots)",
  redeemWinningTicket: "winning ticket paid from the deposit; sender and recipient seen before",
  redeemWinningTicketFromReserve:
    "winning ticket with an empty deposit, paid from the reserve (first claim of the round)",
  batchRedeemWinningTickets10PerTicket: "batch of 10 winning tickets paid from the deposit, / 10",
  unlock: "sender starting the unlock period",
  cancelUnlock: "sender cancelling it",
  withdraw: "sender withdrawing deposit and reserve after the unlock period",
  setServiceInfo: "first publication: peer id, 2 multiaddrs, 60-byte metadata, 64-byte proof",
};

// Build first (a no-op when up to date), so the figures are those of the current sources.
await hre.tasks.getTask("build").run({ quiet: true, noTests: true });
const { ethers, networkHelpers } = await network.connect();
const [deployer, orchestratorSigner, busySigner, delegatorSigner, senderSigner] =
  await ethers.getSigners();
if (!deployer || !orchestratorSigner || !busySigner || !delegatorSigner || !senderSigner) {
  throw new Error("the in-process Hardhat chain has fewer than 5 accounts");
}
const deployment = await deploySegmint(deployer, defaultDeployParams);
const as = (runner: ContractRunner) => segmintClients(deployment, runner);
const own = as(deployer);
const gas: Record<string, number> = {};

/** Fixed keys, so signatures (and so calldata gas) are the same on every run. */
function fixedWallet(label: string): Wallet {
  return new Wallet(keccak256(toUtf8Bytes(`segmint-gas-${label}`)), ethers.provider);
}

async function measure(key: string, tx: Promise<ContractTransactionResponse>): Promise<void> {
  const receipt = await (await tx).wait();
  if (receipt === null || receipt.status !== 1) throw new Error(`${key}: transaction failed`);
  gas[key] = Number(receipt.gasUsed);
}

async function run(tx: Promise<ContractTransactionResponse>): Promise<void> {
  const receipt = await (await tx).wait();
  if (receipt === null || receipt.status !== 1) throw new Error("setup transaction failed");
}

async function fund(address: string, amount: bigint): Promise<void> {
  await run(own.token.transfer(address, amount));
}

async function nextRound(): Promise<void> {
  const start = await own.roundsManager.currentRoundStartBlock();
  const now = BigInt(await ethers.provider.getBlockNumber());
  await networkHelpers.mine(start + BigInt(ROUND_LENGTH) - now);
}

async function approveAll(runner: ContractRunner): Promise<void> {
  const c = as(runner);
  await run(c.token.approve(deployment.contracts.BondingManager, 2n ** 255n));
  await run(c.token.approve(deployment.contracts.TicketBroker, 2n ** 255n));
}

// ---------------------------------------------------------------- orchestrators
const orchestrator = as(orchestratorSigner);
const busy = as(busySigner);
for (const signer of [orchestratorSigner, busySigner, delegatorSigner, senderSigner]) {
  await fund(signer.address, 1_000_000n * TOKEN);
  await approveAll(signer);
}
await measure(
  "setOrchestratorParams",
  orchestrator.bondingManager.setOrchestratorParams(50_000n, 500_000n),
);
await run(orchestrator.bondingManager.bond(10_000n * TOKEN, orchestratorSigner.address));
await run(busy.bondingManager.setOrchestratorParams(50_000n, 500_000n));
await run(busy.bondingManager.bond(10_000n * TOKEN, busySigner.address));

// ---------------------------------------------------------------- delegators
const delegator = as(delegatorSigner);
await measure("bond", delegator.bondingManager.bond(1_000n * TOKEN, orchestratorSigner.address));
await measure("bondMore", delegator.bondingManager.bond(500n * TOKEN, orchestratorSigner.address));

// 50 delegators on the busy orchestrator, each with its own funded wallet.
for (let i = 0; i < DELEGATORS_FOR_SCALING; i++) {
  const wallet = fixedWallet(`delegator-${i}`);
  await networkHelpers.setBalance(wallet.address, ETH);
  await fund(wallet.address, 100n * TOKEN);
  const c = as(wallet);
  await run(c.token.approve(deployment.contracts.BondingManager, 100n * TOKEN));
  await run(c.bondingManager.bond(100n * TOKEN, busySigner.address));
}
// Equal stakes, so both reward() calls mint the same amount.
const gap =
  (await own.bondingManager.orchestratorTotalStake(busySigner.address)) -
  (await own.bondingManager.orchestratorTotalStake(orchestratorSigner.address));
await run(orchestrator.bondingManager.bond(gap, orchestratorSigner.address));

// ---------------------------------------------------------------- sender
const senderWallet = fixedWallet("sender");
await networkHelpers.setBalance(senderWallet.address, ETH);
await fund(senderWallet.address, 1_000_000n * TOKEN);
await approveAll(senderWallet);
const sender = as(senderWallet);
await measure(
  "fundDepositAndReserve",
  sender.ticketBroker.fundDepositAndReserve(100_000n * TOKEN, 100_000n * TOKEN),
);

// ---------------------------------------------------------------- rewards (O(1) in delegators)
await nextRound();
// Seated from this round on, so the orchestrator may publish; a fixed peer key keeps it exact.
{
  const peerKey = await generateKeyPairFromSeed(
    "Ed25519",
    getBytes(keccak256(toUtf8Bytes("gas-peer"))),
  );
  const digest = await own.registry.peerIdClaimDigest(orchestratorSigner.address);
  await measure(
    "setServiceInfo",
    orchestrator.registry.setServiceInfo(
      peerIdFromPrivateKey(peerKey).toString(),
      ["/ip4/203.0.113.7/tcp/4001", "/dns4/o1.example.org/tcp/443/wss"],
      '{"price":"1000","ladder":["720p","480p","360p"],"region":"eu"}',
      await signPeerIdClaim(peerKey, getBytes(digest)),
    ),
  );
}
// reward() computes the round from the block number: nobody initializes it here.
await measure("reward", orchestrator.bondingManager.reward());
await run(busy.bondingManager.reward());
// A new delegator joins the orchestrator's pool: its next reward() turns that stake into shares.
{
  const joiner = fixedWallet("joiner");
  await networkHelpers.setBalance(joiner.address, ETH);
  await fund(joiner.address, 100n * TOKEN);
  await run(as(joiner).token.approve(deployment.contracts.BondingManager, 100n * TOKEN));
  await run(as(joiner).bondingManager.bond(100n * TOKEN, orchestratorSigner.address));
}
await nextRound();
await measure("rewardWith50Delegators", busy.bondingManager.reward());
await measure("rewardConvertingJoins", orchestrator.bondingManager.reward());

// ---------------------------------------------------------------- tickets
let nonce = 0n;
async function signedTicket(
  broker: TicketBroker,
  recipient: string,
  faceValue: bigint,
): Promise<{ ticket: Ticket; sig: string; rand: bigint }> {
  const rand = 0xc0ffeen + nonce;
  // As the node's senders do: the current round, with its block hash or zero when nobody
  // initialized it.
  const round = await own.roundsManager.currentRound();
  const ticket = {
    recipient,
    sender: senderWallet.address,
    faceValue,
    winProb: MAX_WIN_PROB,
    senderNonce: ++nonce,
    recipientRandHash: hashRecipientRand(rand),
    creationRound: round,
    creationRoundBlockHash: await own.roundsManager.blockHashForRound(round),
  };
  const digest = await broker.getTicketHash(ticket);
  return { ticket, sig: senderWallet.signingKey.sign(digest).serialized, rand };
}

const redeemer = as(orchestratorSigner).ticketBroker;
// A first redemption warms the recipient's fee slots, as for any orchestrator already at work.
{
  const t = await signedTicket(redeemer, orchestratorSigner.address, 1n * TOKEN);
  await run(redeemer.redeemWinningTicket(t.ticket, t.sig, t.rand));
}
{
  const t = await signedTicket(redeemer, orchestratorSigner.address, 1n * TOKEN);
  await measure("redeemWinningTicket", redeemer.redeemWinningTicket(t.ticket, t.sig, t.rand));
}
{
  const batch: Awaited<ReturnType<typeof signedTicket>>[] = [];
  for (let i = 0; i < BATCH; i++) {
    batch.push(await signedTicket(redeemer, orchestratorSigner.address, 1n * TOKEN));
  }
  await measure(
    "batchRedeemWinningTickets10",
    redeemer.batchRedeemWinningTickets(
      batch.map((b) => b.ticket),
      batch.map((b) => b.sig),
      batch.map((b) => b.rand),
    ),
  );
  gas.batchRedeemWinningTickets10PerTicket = Math.round(
    (gas.batchRedeemWinningTickets10 ?? 0) / BATCH,
  );
  delete gas.batchRedeemWinningTickets10;
}

// Fees credited over three rounds, then a delegator settles them in one claim.
for (let r = 0; r < 2; r++) {
  await nextRound();
  await run(own.roundsManager.initializeRound());
  const t = await signedTicket(redeemer, orchestratorSigner.address, 10n * TOKEN);
  await run(redeemer.redeemWinningTicket(t.ticket, t.sig, t.rand));
}
await measure("claimEarnings", delegator.bondingManager.claimEarnings());
// The orchestrator settles its fees, which then wait the unlock period.
await run(orchestrator.bondingManager.claimEarnings());
for (let r = 0; r < defaultDeployParams.unlockPeriod; r++) await nextRound();
await measure(
  "withdrawFees",
  orchestrator.bondingManager.withdrawFees(orchestratorSigner.address, 1n * TOKEN),
);

// Empty the deposit, then a ticket is paid from the reserve.
{
  const deposit = (await own.ticketBroker.getSenderInfo(senderWallet.address)).deposit;
  const drain = await signedTicket(redeemer, orchestratorSigner.address, deposit);
  await run(redeemer.redeemWinningTicket(drain.ticket, drain.sig, drain.rand));
  const t = await signedTicket(redeemer, orchestratorSigner.address, 1n * TOKEN);
  await measure(
    "redeemWinningTicketFromReserve",
    redeemer.redeemWinningTicket(t.ticket, t.sig, t.rand),
  );
}

// ---------------------------------------------------------------- unbonding
await measure("unbond", delegator.bondingManager.unbond(200n * TOKEN));
await measure("rebond", delegator.bondingManager.rebond(0n));
await run(delegator.bondingManager.unbond(300n * TOKEN));
for (let r = 0; r < defaultDeployParams.unbondingPeriod; r++) await nextRound();
await measure("withdrawStake", delegator.bondingManager.withdrawStake(1n));

// ---------------------------------------------------------------- sender exit
await measure("unlock", sender.ticketBroker.unlock());
await measure("cancelUnlock", sender.ticketBroker.cancelUnlock());
await run(sender.ticketBroker.unlock());
for (let r = 0; r < defaultDeployParams.unlockPeriod; r++) await nextRound();
await measure("withdraw", sender.ticketBroker.withdraw());

// ---------------------------------------------------------------- output
const ordered: Record<string, number> = {};
for (const key of Object.keys(STATE)) {
  const value = gas[key];
  if (value === undefined) throw new Error(`no figure for ${key}`);
  ordered[key] = value;
}
const TARGETS: Record<string, number> = {
  redeemWinningTicket: 85_000,
  redeemWinningTicketFromReserve: 140_000,
  batchRedeemWinningTickets10PerTicket: 40_000,
  bond: 110_000,
  reward: 115_000,
  rewardWith50Delegators: 115_000,
  rewardConvertingJoins: 115_000,
};
if (values.json) {
  process.stdout.write(`${JSON.stringify(ordered)}\n`);
} else {
  const width = Math.max(...Object.keys(ordered).map((k) => k.length));
  process.stdout.write(`${"operation".padEnd(width)}  ${"gas".padStart(9)}  target    state\n`);
  for (const [key, value] of Object.entries(ordered)) {
    const target = TARGETS[key];
    const mark =
      target === undefined ? "" : value <= target ? `<= ${target / 1000}k` : `> ${target / 1000}k!`;
    process.stdout.write(
      `${key.padEnd(width)}  ${value.toLocaleString("en-US").padStart(9)}  ${mark.padEnd(8)}  ${STATE[key]}\n`,
    );
  }
}
