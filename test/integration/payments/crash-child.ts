/**
 * Child process for the crash-safety test: an orchestrator that validates one winning ticket,
 * says "ACK <ticketHash>" (the point where it would answer the broadcaster) and then waits to
 * be killed with SIGKILL. Not a test file itself (no .test.ts).
 */
import { JsonRpcProvider, Wallet } from "ethers";
import { fromHex } from "../../../node/src/chain/bytes.ts";
import { parseDeployment } from "../../../node/src/chain/deployment.ts";
import { BrokerClient } from "../../../node/src/payments/broker-client.ts";
import { ChainStateCache, TicketSender } from "../../../node/src/payments/index.ts";
import { openDatabase, TicketJournal } from "../../../node/src/store/index.ts";
import { ticketDesk } from "../../helpers/payments.ts";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`missing ${name}`);
  return value;
}

const provider = new JsonRpcProvider(env("CHAIN_URL"), undefined, { staticNetwork: true });
const deployment = parseDeployment(JSON.parse(env("DEPLOYMENT")));
const orchestrator = new Wallet(env("ORCHESTRATOR_KEY"));
const broadcasterKey = fromHex(env("BROADCASTER_KEY"), 32);
const faceValue = BigInt(env("FACE_VALUE"));

const client = BrokerClient.readOnly(deployment, provider);
const domain = await client.ticketDomain();
const journal = new TicketJournal(openDatabase(env("DB_PATH")));
const secret = fromHex(env("SECRET"), 32);
const cache = new ChainStateCache(client, orchestrator.address, 0);
const { issuer, validator } = ticketDesk({
  recipient: orchestrator.address,
  secret,
  domain,
  cache,
  journal,
  faceValue,
  ticketEV: faceValue,
});
const sender = new TicketSender(broadcasterKey, domain, {
  maxPricePerPixel: 10n,
  maxTicketEV: faceValue,
  maxTotalSpend: faceValue * 10n,
});
const [ticket] = sender.createTickets(await issuer.issue(sender.address), 1n);
if (!ticket) throw new Error("no ticket");
const accepted = await validator.receive(ticket);
if (!accepted.won) throw new Error("expected a winning ticket");
process.stdout.write(`ACK ${accepted.ticketHash}\n`);
// Keep the database handle open and the process alive until the parent kills it.
setInterval(() => {}, 60_000);
