import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { BroadcasterError } from "../broadcaster/errors.ts";
import { type SpendRow, SpendStore, totalSpend } from "../broadcaster/spend.ts";
import { formatTokens } from "../config/amounts.ts";
import { resolveConfig } from "../config/load.ts";
import { toJson } from "../json.ts";

interface SpendFlags {
  dataDir?: string;
  reputationFile?: string;
  json?: boolean;
}

const spendSettingsSchema = z.object({
  dataDir: z.string().min(1).optional(),
  reputationFile: z.string().min(1).optional(),
});

/** The store a broadcaster with these settings writes (network-session.ts's rule). */
function storeFile(settings: z.output<typeof spendSettingsSchema>): string {
  if (settings.reputationFile !== undefined) return resolve(settings.reputationFile);
  if (settings.dataDir !== undefined) return resolve(join(settings.dataDir, "reputation.sqlite"));
  throw new BroadcasterError(
    "SPEND_HISTORY_NOT_FOUND",
    "name the broadcaster's data folder (--data-dir, or SEGMINT_DATA_DIR)",
    {},
    { hint: "pass the --data-dir your broadcasts ran with" },
  );
}

interface RunView {
  run: string;
  kind: string;
  label: string;
  startedAt: string;
  orchestrators: SpendRow[];
}

function byRun(rows: readonly SpendRow[]): RunView[] {
  const runs = new Map<string, RunView>();
  for (const row of rows) {
    let view = runs.get(row.run);
    if (view === undefined) {
      view = {
        run: row.run,
        kind: row.kind,
        label: row.label,
        startedAt: new Date(row.startedAt).toISOString(),
        orchestrators: [],
      };
      runs.set(row.run, view);
    }
    view.orchestrators.push(row);
  }
  return [...runs.values()];
}

function totalsLine(rows: readonly SpendRow[]): string {
  const t = totalSpend(rows);
  return (
    `${t.segments} segments, ${t.tickets} tickets, face value ${formatTokens(t.faceValue)}, ` +
    `expected value ${formatTokens(t.expectedValue)}, ${t.verificationFailures} verification failures`
  );
}

function formatText(file: string, rows: readonly SpendRow[]): string {
  const runs = byRun(rows);
  if (runs.length === 0) return `No spend recorded in ${file} yet.\n`;
  const count = `${runs.length} run${runs.length === 1 ? "" : "s"}`;
  const lines = [`Spend history in ${file}: ${count}; ${totalsLine(rows)}`];
  for (const run of runs) {
    lines.push(
      `${run.kind} ${run.startedAt.replace("T", " ").slice(0, 19)} UTC  ${run.label}  (${run.run})`,
      `  total ${totalsLine(run.orchestrators)}`,
      ...run.orchestrators.map(
        (r) =>
          `  ${r.orchestrator}  ${r.segments} segments, ${r.tickets} tickets, face ${formatTokens(r.faceValue)}, ` +
          `expected ${formatTokens(r.expectedValue)}, winners ${r.winners ?? "unknown"}, ` +
          `failures ${r.verificationFailures}`,
      ),
    );
  }
  return `${lines.join("\n")}\n`;
}

function toJsonView(file: string, rows: readonly SpendRow[]) {
  const t = totalSpend(rows);
  return {
    file,
    runs: byRun(rows).map((run) => ({
      ...run,
      orchestrators: run.orchestrators.map((r) => ({
        orchestrator: r.orchestrator,
        segments: r.segments,
        tickets: r.tickets,
        faceValue: r.faceValue.toString(),
        expectedValue: r.expectedValue.toString(),
        winners: r.winners,
        verificationFailures: r.verificationFailures,
        rejectedValue: r.rejectedValue.toString(),
      })),
    })),
    totals: {
      ...t,
      faceValue: t.faceValue.toString(),
      expectedValue: t.expectedValue.toString(),
    },
  };
}

export function registerSpend(program: Command): void {
  program
    .command("spend")
    .summary("what this broadcaster spent, per broadcast or stream and per orchestrator")
    .description(
      "Print the spend history a broadcaster keeps in its data folder (reputation.sqlite, " +
        "written as each segment settles by `segmint broadcast --data-dir DIR` and the live " +
        "daemon): per broadcast or live stream and per orchestrator, the segments paid for, the " +
        "tickets sent, their face value and expected value, and the results that failed " +
        "verification. Winning tickets are not known to a sender (only the orchestrator can " +
        "tell a winner) and show as unknown. Amounts in tokens; exact wei with --json.",
    )
    .option("--data-dir <dir>", "the broadcaster's data folder (or SEGMINT_DATA_DIR)")
    .option("--reputation-file <file>", "the store itself, when it was moved out of --data-dir")
    .option("--json", "print one JSON object (amounts in wei)")
    .action((flags: SpendFlags) => {
      const settings = resolveConfig(spendSettingsSchema, {
        env: process.env,
        flags: { dataDir: flags.dataDir, reputationFile: flags.reputationFile },
      });
      const file = storeFile(settings);
      if (!existsSync(file)) {
        throw new BroadcasterError(
          "SPEND_HISTORY_NOT_FOUND",
          `no spend history at ${file}`,
          { file },
          {
            hint: "broadcasts keep one only when given --data-dir; pass the folder they ran with",
          },
        );
      }
      const store = SpendStore.open(file);
      try {
        const rows = store.rows();
        process.stdout.write(
          flags.json ? `${toJson(toJsonView(file, rows))}\n` : formatText(file, rows),
        );
      } finally {
        store.close();
      }
    });
}
