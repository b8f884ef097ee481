import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { exactTokens } from "../../../node/src/config/amounts.ts";
import { TOKEN_SYMBOL } from "../../../node/src/orchestrator/dashboard.ts";
import { launchBrowser, readPage, type TestBrowser, waitInPage } from "../../helpers/browser.ts";
import { runCli } from "../../helpers/cli.ts";
import { createMediaWorkspace, type MediaWorkspace } from "../../helpers/media.ts";
import {
  chainFlags,
  type OrchestratorProcess,
  spawnOrchestrator,
  startTestChain,
  type TestChain,
  TOKEN,
} from "../orchestrator/helpers.ts";

const shownSchema = z.object({
  fields: z.array(
    z.object({ field: z.string(), kind: z.string(), raw: z.string().nullable(), text: z.string() }),
  ),
  sessions: z.array(z.array(z.string())),
  errors: z.array(z.array(z.string())),
  rounds: z.array(z.array(z.string())),
});
type Shown = z.infer<typeof shownSchema>;

/**
 * Everything the dashboard shows, read in one go (between two of its refreshes): each value's
 * /status path, format, raw value and text, and the cells of the tables.
 */
const READ_PAGE = `(() => {
  const rows = (id) => [...document.querySelectorAll("#" + id + " tr")].map((tr) =>
    [...tr.cells].map((td) => td.textContent));
  return {
    fields: [...document.querySelectorAll("[data-field]")].map((el) => ({
      field: el.dataset.field, kind: el.dataset.kind, raw: el.dataset.raw ?? null,
      text: el.textContent,
    })),
    sessions: rows("sessions"),
    errors: rows("errors"),
    rounds: rows("rounds"),
  };
})()`;

function lookup(document: unknown, field: string): unknown {
  let value = document;
  for (const key of field.split(".")) {
    if (key === "length" && Array.isArray(value)) value = value.length;
    else if (typeof value === "object" && value !== null) value = Reflect.get(value, key);
    else return undefined;
  }
  return value;
}

/** How the dashboard should show a raw /status value: the test's own account of each format. */
function expectedText(kind: string, raw: string): string {
  switch (kind) {
    case "tokens":
      return `${exactTokens(BigInt(raw))} ${TOKEN_SYMBOL}`;
    case "eth":
      return `${exactTokens(BigInt(raw))} ETH`;
    case "ethPerToken":
      return `${raw} ETH per ${TOKEN_SYMBOL}`;
    case "wei":
      return `${raw} wei`;
    case "rate":
      return Number(raw).toFixed(2);
    case "ppm":
      return `${Number(raw) / 10_000} %`;
    case "bool":
      return raw === "true" ? "yes" : "no";
    default:
      return raw;
  }
}

/** Where the page and /status disagree (empty when the page shows /status). */
function mismatches(shown: Shown, status: unknown): string[] {
  const problems: string[] = [];
  for (const { field, kind, raw, text } of shown.fields) {
    const value = lookup(status, field);
    const want = value === undefined || value === null ? null : String(value);
    // A rate moves with every read; what a person sees (2 decimals) must still agree.
    if (kind === "rate" && raw !== null && want !== null) {
      if (text !== expectedText(kind, want))
        problems.push(`${field}: shown ${text}, /status ${want}`);
    } else if (raw !== want) problems.push(`${field}: page ${raw}, /status ${want}`);
    else if (raw !== null && text !== expectedText(kind, raw))
      problems.push(`${field}: shown "${text}", expected "${expectedText(kind, raw)}"`);
  }
  // The tables list what /status lists, or say "none".
  const none = [["none"]];
  const live = z
    .array(z.object({ streamId: z.string() }))
    .parse(lookup(status, "liveSessions") ?? []);
  const sessions = live.length === 0 ? none : live.map((s) => s.streamId);
  const shownSessions = live.length === 0 ? shown.sessions : shown.sessions.map((r) => r[0]);
  if (JSON.stringify(shownSessions) !== JSON.stringify(sessions))
    problems.push(`live sessions: page ${JSON.stringify(shown.sessions)}`);
  const recent = z
    .array(z.object({ code: z.string() }))
    .parse(lookup(status, "recentErrors") ?? []);
  const codes = recent.length === 0 ? none : recent.map((e) => e.code);
  const shownCodes = recent.length === 0 ? shown.errors : shown.errors.map((r) => r[1]);
  if (JSON.stringify(shownCodes) !== JSON.stringify(codes))
    problems.push(`recent errors: page ${JSON.stringify(shown.errors)}`);
  const history = z
    .array(z.object({ round: z.string(), ticketsReceived: z.number() }))
    .parse(lookup(status, "rounds") ?? []);
  const rounds = history.map((r) => [r.round, String(r.ticketsReceived)]);
  const shownRounds = shown.rounds.map((r) => r.slice(0, 2));
  if (history.length === 0 || JSON.stringify(shownRounds) !== JSON.stringify(rounds))
    problems.push(`earnings by round: page ${JSON.stringify(shown.rounds)}`);
  return problems;
}

describe("the orchestrator dashboard in Chromium", () => {
  let t: TestChain;
  let orch: OrchestratorProcess | undefined;
  let media: MediaWorkspace;
  let browser: TestBrowser | undefined;

  beforeAll(async () => {
    t = await startTestChain();
    media = await createMediaWorkspace();
    const me = t.wallet(1);
    await t.fund(me.address, 5_000n * TOKEN);
    await t.fund(t.wallet(2).address, 100n * TOKEN);
    orch = await spawnOrchestrator(
      [
        ...chainFlags(t),
        "--data-dir",
        path.join(t.dir, "o1"),
        // About one 0.001-token ticket per 1 s 144p segment; a winner (face value 0.002 token)
        // is well above the gas its redemption costs on the dev chain.
        "--price-per-pixel",
        "500000000",
        "--reward-cut",
        "50000",
        "--fee-share",
        "400000",
        "--stake",
        (1_000n * TOKEN).toString(),
        "--ticket-ev",
        "1000000000000000",
        // Half the tickets win, so won, redeemed and fees all move in a short broadcast.
        "--win-prob",
        "0.5",
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--http-port",
        "0",
        "--poll-interval",
        "200",
      ],
      { SEGMINT_PRIVATE_KEY: t.key(1) },
    );
    // Bonded stake counts from the next round: only active orchestrators get work.
    await t.mineRounds(1);
    // Some paid work, so tickets, throughput and live sessions have something to show.
    const clip = await media.clip("clip.ts", {
      width: 426,
      height: 240,
      fps: 30,
      durationSeconds: 4,
      gopSeconds: 1,
    });
    const broadcast = await runCli(
      [
        "broadcast",
        clip,
        "--out",
        path.join(t.dir, "hls"),
        ...chainFlags(t),
        "--key",
        t.key(2),
        "--profiles",
        "144p",
        "--orchestrators",
        "1",
        "--segment",
        "1",
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--deposit",
        (10n * TOKEN).toString(),
        "--reserve",
        (1n * TOKEN).toString(),
        "--json",
      ],
      { timeoutMs: 150_000 },
    );
    if (broadcast.code !== 0) throw new Error(`broadcast failed: ${broadcast.stderr.slice(-2000)}`);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await orch?.kill();
    await media?.cleanup();
    await t?.close();
  });

  it("shows the numbers and tables of /status, in tokens, and keeps them current", async () => {
    if (browser === undefined || orch === undefined) throw new Error("setup failed");
    const url = orch.ready.httpUrl;
    const page: Page = await browser.open(`${url}/`);
    const counter = z.object({ updates: z.number() });
    await waitInPage(
      page,
      "window.segmintDashboard",
      counter,
      (d) => d.updates >= 1,
      30_000,
      "the first /status",
    );

    // The page refreshes every 2 s while the node keeps working (redemptions land, rates
    // decay): wait for a refresh that matches a /status read in between.
    let shown: Shown = { fields: [], sessions: [], errors: [], rounds: [] };
    let problems: string[] = ["not compared yet"];
    for (let attempt = 0; attempt < 20 && problems.length > 0; attempt++) {
      const status: unknown = await (await fetch(`${url}/status`)).json();
      const seen = await readPage(page, "window.segmintDashboard", counter);
      await waitInPage(
        page,
        "window.segmintDashboard",
        counter,
        (d) => d.updates > seen.updates,
        10_000,
        "a refresh",
      );
      shown = await readPage(page, READ_PAGE, shownSchema);
      problems = mismatches(shown, status);
    }
    expect(problems).toEqual([]);

    // The fields the dashboard is for are all there, and the work shows up in them.
    const value = (field: string) => shown.fields.find((s) => s.field === field)?.raw;
    for (const field of [
      "state",
      "sessions",
      "capacity",
      "throughput.segmentsPerSecond",
      "liveSessions.length",
      "tickets.received",
      "tickets.won",
      "tickets.redeemed",
      "tickets.expectedValueEarned",
      "earnings.pendingFees",
      "earnings.feesWithdrawn",
      "earnings.rewards",
      "stake",
    ]) {
      expect({ field, shown: value(field) !== undefined }).toEqual({ field, shown: true });
    }
    expect(value("state")).toBe("serving");
    expect(Number(value("throughput.segments"))).toBeGreaterThan(0);
    expect(Number(value("tickets.received"))).toBeGreaterThan(0);
    expect(BigInt(value("tickets.expectedValueEarned") ?? "0")).toBeGreaterThan(0n);
    // Amounts in tokens with the unit (the stake has grown by the rewards minted since).
    expect(BigInt(value("stake") ?? "0")).toBeGreaterThanOrEqual(1_000n * TOKEN);
    expect(shown.fields.find((s) => s.field === "stake")?.text).toMatch(
      new RegExp(`^\\d+(\\.\\d+)? ${TOKEN_SYMBOL}$`),
    );

    expect(browser.pageErrors).toEqual([]);
  });
});
