/**
 * The orchestrator's dashboard: one self-contained page (no external script, style or font)
 * that reads /status every 2 s and shows it to a person. Token amounts arrive as wei decimal
 * strings and are shown exactly, in tokens (18 decimals). A field /status does not carry (an
 * older node, or the chain unreachable) shows as a dash.
 *
 * Every value sits in an element with `data-field` (its path in /status), `data-kind` (how it
 * is formatted) and `data-raw` (the value as /status gave it), so tests can compare the page
 * with the document it was built from.
 */

/** How often the page reloads /status, ms. */
export const DASHBOARD_REFRESH_MS = 2_000;

/** The token's symbol as shown next to amounts. */
export const TOKEN_SYMBOL = "SGM";

const style = `
  :root { color-scheme: light dark; --muted: #888; --line: #8884; --ok: #2a7; --warn: #c80; --bad: #c33; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 16px; }
  header { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
  h1 { font-size: 20px; margin: 0; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  code { font-size: 12px; word-break: break-all; }
  .muted { color: var(--muted); }
  .badge { border-radius: 4px; padding: 2px 8px; color: #fff; background: var(--muted); }
  .badge.serving { background: var(--ok); }
  .badge.starting, .badge.stopping { background: var(--warn); }
  .problem { border: 1px solid var(--bad); color: var(--bad); padding: 8px; margin: 8px 0; }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(250px, 1fr)); gap: 12px; margin: 12px 0; }
  .card { border: 1px solid var(--line); border-radius: 6px; padding: 12px; }
  dl { display: grid; grid-template-columns: auto 1fr; gap: 4px 12px; margin: 0; }
  dt { color: var(--muted); }
  dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  .bar { height: 6px; background: var(--line); border-radius: 3px; margin-top: 6px; }
  .bar > div { height: 100%; background: var(--ok); border-radius: 3px; width: 0; }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
`;

/** One row of a card: label, then the value element. */
function row(label: string, field: string, kind: string): string {
  return `<dt>${label}</dt><dd data-field="${field}" data-kind="${kind}">—</dd>`;
}

const body = `
<header>
  <h1>Segmint orchestrator</h1>
  <span class="badge" data-field="state" data-kind="text">—</span>
  <span class="muted" id="updated">loading /status…</span>
</header>
<p class="muted">address <code data-field="address" data-kind="text">—</code>
  · peer <code data-field="peerId" data-kind="text">—</code></p>
<div class="problem" id="problem" hidden></div>
<div class="grid">
  <section class="card"><h2>Work</h2><dl>
    ${row("sessions in use", "sessions", "int")}
    ${row("capacity", "capacity", "int")}
    ${row("segments / s", "throughput.segmentsPerSecond", "rate")}
    ${row("segments", "throughput.segments", "int")}
    ${row("live sessions", "liveSessions.length", "int")}
  </dl><div class="bar" title="capacity in use"><div id="capacity-bar"></div></div></section>
  <section class="card"><h2>Tickets</h2><dl id="tickets">
    ${row("received", "tickets.received", "int")}
    ${row("won", "tickets.won", "int")}
    ${row("redeemed value", "tickets.redeemedValue", "tokens")}
    ${row("paid value", "tickets.paidValue", "tokens")}
  </dl></section>
  <section class="card"><h2>Earnings</h2><dl>
    ${row("expected value earned", "tickets.expectedValueEarned", "tokens")}
    ${row("fees pending", "earnings.pendingFees", "tokens")}
    ${row("fees withdrawn", "earnings.feesWithdrawn", "tokens")}
    ${row("rewards", "earnings.rewards", "tokens")}
    ${row("reward calls", "rewardCalls", "int")}
  </dl></section>
  <section class="card"><h2>Stake</h2><dl>
    ${row("active", "active", "bool")}
    ${row("round", "round", "text")}
    ${row("own stake", "stake", "tokens")}
    ${row("total stake", "totalStake", "tokens")}
    ${row("reward cut", "rewardCut", "ppm")}
    ${row("fee share", "feeShare", "ppm")}
  </dl></section>
  <section class="card"><h2>Pricing</h2><dl>
    ${row("price per pixel", "pricePerPixel", "wei")}
    ${row("ticket face value", "ticket.faceValue", "tokens")}
    ${row("ticket expected value", "ticket.expectedValue", "tokens")}
    ${row("face value in ETH", "ticket.faceValueNative", "eth")}
    ${row("redemption gas", "ticket.redeemGasCost", "eth")}
    ${row("smallest paying face value", "ticket.minFaceValue", "tokens")}
    ${row("token price", "ticket.tokenPriceEth", "ethPerToken")}
  </dl></section>
</div>
<section class="card"><h2>Live sessions</h2>
  <table><thead><tr><th>stream</th><th>sender</th><th>segments</th><th>last segment</th></tr></thead>
  <tbody id="sessions"></tbody></table></section>
<section class="card" style="margin-top:12px"><h2>Earnings by round</h2>
  <table><thead><tr><th>round</th><th>tickets</th><th>expected value</th><th>winners</th>
  <th>redeemed</th><th>redeemed value</th><th>redemption gas</th><th>reward minted</th></tr></thead>
  <tbody id="rounds"></tbody></table></section>
<section class="card" style="margin-top:12px"><h2>Recent errors</h2>
  <table><thead><tr><th>at</th><th>code</th><th>message</th></tr></thead>
  <tbody id="errors"></tbody></table></section>
`;

/**
 * The page's script, plain browser JavaScript. Values are only ever set as text (never as
 * HTML), so nothing /status carries can inject markup.
 */
const script = `
"use strict";
const REFRESH_MS = ${DASHBOARD_REFRESH_MS};
const SYMBOL = ${JSON.stringify(TOKEN_SYMBOL)};
const DECIMALS = 18n;
const state = { updates: 0, status: null, error: null };
window.segmintDashboard = state;

function lookup(doc, path) {
  let value = doc;
  for (const key of path.split(".")) {
    if (value === null || value === undefined) return undefined;
    value = key === "length" && Array.isArray(value) ? value.length : value[key];
  }
  return value;
}

function tokens(wei, symbol = SYMBOL) {
  const n = BigInt(wei);
  const unit = 10n ** DECIMALS;
  const sign = n < 0n ? "-" : "";
  const abs = n < 0n ? -n : n;
  const fraction = (abs % unit).toString().padStart(Number(DECIMALS), "0").replace(/0+$/, "");
  return sign + (abs / unit).toString() + (fraction ? "." + fraction : "") + " " + symbol;
}

function format(kind, raw) {
  switch (kind) {
    case "tokens": return tokens(raw);
    case "eth": return tokens(raw, "ETH");
    case "ethPerToken": return raw + " ETH per " + SYMBOL;
    case "wei": return raw + " wei";
    case "int": return String(raw);
    case "rate": return Number(raw).toFixed(2);
    case "ppm": return (Number(raw) / 10000) + " %";
    case "bool": return raw ? "yes" : "no";
    default: return String(raw);
  }
}

function ago(ms) {
  const seconds = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return seconds + " s ago";
}

function cell(tr, text, numeric) {
  const td = document.createElement("td");
  td.textContent = text;
  if (numeric) td.className = "num";
  tr.appendChild(td);
}

function ticketStatusRows(tickets) {
  const list = document.getElementById("tickets");
  const named = ["received", "won", "redeemedValue", "paidValue", "expectedValueEarned"];
  for (const key of Object.keys(tickets || {})) {
    if (named.includes(key) || typeof tickets[key] !== "number") continue;
    if (list.querySelector('[data-field="tickets.' + key + '"]')) continue;
    const dt = document.createElement("dt");
    dt.textContent = key;
    const dd = document.createElement("dd");
    dd.dataset.field = "tickets." + key;
    dd.dataset.kind = "int";
    list.insertBefore(dd, list.children[4] || null);
    list.insertBefore(dt, dd);
  }
}

function render(status) {
  ticketStatusRows(status.tickets);
  for (const el of document.querySelectorAll("[data-field]")) {
    const raw = lookup(status, el.dataset.field);
    if (raw === undefined || raw === null) {
      el.textContent = "—";
      delete el.dataset.raw;
    } else {
      el.textContent = format(el.dataset.kind, raw);
      el.dataset.raw = String(raw);
    }
  }
  const badge = document.querySelector('[data-field="state"]');
  badge.className = "badge " + (status.state || "");
  const used = status.capacity > 0 ? Math.min(1, status.sessions / status.capacity) : 0;
  document.getElementById("capacity-bar").style.width = (used * 100).toFixed(0) + "%";

  const sessions = document.getElementById("sessions");
  sessions.replaceChildren();
  for (const s of status.liveSessions || []) {
    const tr = document.createElement("tr");
    cell(tr, s.streamId);
    cell(tr, s.sender);
    cell(tr, String(s.segments), true);
    cell(tr, ago(s.lastSeenMs));
    sessions.appendChild(tr);
  }
  if (sessions.children.length === 0) sessions.innerHTML = '<tr><td colspan="4" class="muted">none</td></tr>';

  const rounds = document.getElementById("rounds");
  rounds.replaceChildren();
  for (const r of status.rounds || []) {
    const tr = document.createElement("tr");
    cell(tr, r.round);
    cell(tr, String(r.ticketsReceived), true);
    cell(tr, tokens(r.expectedValue), true);
    cell(tr, String(r.winners), true);
    cell(tr, String(r.redeemed), true);
    cell(tr, tokens(r.redeemedValue), true);
    cell(tr, tokens(r.redemptionGas, "ETH"), true);
    cell(tr, r.rewardMinted === null ? "—" : tokens(r.rewardMinted), true);
    rounds.appendChild(tr);
  }
  if (rounds.children.length === 0) rounds.innerHTML = '<tr><td colspan="8" class="muted">none yet</td></tr>';

  const errors = document.getElementById("errors");
  errors.replaceChildren();
  for (const e of status.recentErrors || []) {
    const tr = document.createElement("tr");
    cell(tr, new Date(e.at).toLocaleTimeString());
    cell(tr, e.code);
    cell(tr, e.message);
    errors.appendChild(tr);
  }
  if (errors.children.length === 0) errors.innerHTML = '<tr><td colspan="3" class="muted">none</td></tr>';
}

function problem(text) {
  const box = document.getElementById("problem");
  box.hidden = !text;
  box.textContent = text || "";
}

async function refresh() {
  try {
    const response = await fetch("/status", { cache: "no-store" });
    if (!response.ok) throw new Error("/status answered " + response.status);
    const status = await response.json();
    render(status);
    state.status = status;
    state.error = null;
    state.updates += 1;
    problem(status.chainError ? "chain unreachable: " + status.chainError : "");
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (error) {
    state.error = String(error && error.message || error);
    problem("cannot read /status: " + state.error);
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}
refresh();
`;

/** The whole dashboard page. */
export function dashboardPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Segmint orchestrator</title>
<style>${style}</style></head>
<body>${body}<script>${script}</script></body></html>
`;
}
