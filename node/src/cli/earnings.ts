import path from "node:path";
import type { Command } from "commander";
import { formatEth, formatTokens } from "../config/amounts.ts";
import { STORE_FILE } from "../orchestrator/history.ts";
import { roundEarningsJson } from "../orchestrator/status.ts";
import {
  DEFAULT_HISTORY_ROUNDS,
  EarningsHistory,
  MAX_HISTORY_ROWS,
  openExistingDatabase,
  type RoundEarnings,
  type TicketEarnings,
} from "../store/index.ts";
import { printJson } from "./chain-flags.ts";
import { parseIntegerOption } from "./options.ts";

interface EarningsFlags {
  dataDir?: string;
  rounds: number;
  tickets: number;
  json?: boolean;
}

/** Winning tickets listed by default: enough to see the latest redemptions at a glance. */
const DEFAULT_TICKETS = 5;

export function registerEarnings(program: Command): void {
  program
    .command("earnings")
    .summary("an orchestrator's earnings per round and per winning ticket, from its data dir")
    .description(
      "Read the orchestrator's earnings history from its data dir (no chain needed, and the\n" +
        "daemon may be running): per round, the tickets received and their expected value, the\n" +
        "winners, what redemption paid and its gas, and the reward minted; then the latest\n" +
        "winning tickets with their status, transaction and gas. Rounds are those the tickets\n" +
        "name; figures written by a running daemon appear within one --poll-interval.",
    )
    .option(
      "--data-dir <dir>",
      "the orchestrator's data dir (or SEGMINT_DATA_DIR; default .segmint)",
    )
    .option(
      "--rounds <n>",
      "rounds to show, most recent first",
      parseIntegerOption(1, MAX_HISTORY_ROWS),
      DEFAULT_HISTORY_ROUNDS,
    )
    .option(
      "--tickets <n>",
      "winning tickets to list, most recent first (0 for none)",
      parseIntegerOption(0, MAX_HISTORY_ROWS),
      DEFAULT_TICKETS,
    )
    .option("--json", "print one JSON object (amounts in wei)")
    .action((flags: EarningsFlags) => {
      const dataDir = flags.dataDir ?? nonEmpty(process.env.SEGMINT_DATA_DIR) ?? ".segmint";
      const file = path.join(dataDir, STORE_FILE);
      const db = openExistingDatabase(file, "orchestrator store");
      try {
        const history = new EarningsHistory(db);
        const rounds = history.rounds(flags.rounds);
        const tickets = history.tickets(flags.tickets);
        if (flags.json) {
          printJson({
            dataDir,
            rounds: rounds.map(roundEarningsJson),
            tickets: tickets.map(ticketJson),
          });
        } else {
          process.stdout.write(`${earningsText(dataDir, rounds, tickets)}\n`);
        }
      } finally {
        db.close();
      }
    });
}

function ticketJson(t: TicketEarnings) {
  return {
    id: t.id,
    ticketHash: t.ticketHash,
    sender: t.sender,
    round: t.round.toString(),
    faceValue: t.faceValue.toString(),
    winProb: t.winProb.toString(),
    status: t.status,
    receivedAt: new Date(t.receivedAt).toISOString(),
    updatedAt: new Date(t.updatedAt).toISOString(),
    txHash: t.txHash,
    paidValue: t.paidValue === null ? null : t.paidValue.toString(),
    gasFee: t.gasFee === null ? null : t.gasFee.toString(),
  };
}

/** Rows of cells as columns: the first left-aligned, the rest right-aligned. */
function columns(rows: readonly string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function earningsText(
  dataDir: string,
  rounds: readonly RoundEarnings[],
  tickets: readonly TicketEarnings[],
): string {
  const lines = [`Earnings recorded in ${path.join(dataDir, STORE_FILE)}`];
  if (rounds.length === 0) {
    lines.push("No tickets, winners or rewards recorded yet.");
  } else {
    lines.push(
      "",
      columns([
        ["round", "tickets", "expected value", "winners", "redeemed", "paid", "gas", "reward"],
        ...rounds.map((r) => [
          r.round.toString(),
          r.ticketsReceived.toString(),
          formatTokens(r.expectedValue),
          r.winners.toString(),
          r.redeemed.toString(),
          formatTokens(r.redeemedValue),
          formatEth(r.redemptionGas),
          r.rewardMinted === null ? "-" : formatTokens(r.rewardMinted),
        ]),
      ]),
    );
  }
  if (tickets.length > 0) {
    lines.push(
      "",
      "Latest winning tickets:",
      columns([
        ["received", "round", "face value", "status", "paid", "gas", "tx"],
        ...tickets.map((t) => [
          new Date(t.receivedAt).toISOString().replace("T", " ").slice(0, 19),
          t.round.toString(),
          formatTokens(t.faceValue),
          t.status,
          t.paidValue === null ? "-" : formatTokens(t.paidValue),
          t.gasFee === null ? "-" : formatEth(t.gasFee),
          t.txHash ?? "-",
        ]),
      ]),
    );
  }
  return lines.join("\n");
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
