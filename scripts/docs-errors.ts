/**
 * Writes docs/errors.md from the error catalog (node/src/error-catalog.ts): `npm run docs:errors`.
 * test/unit/errors/catalog.test.ts fails when the file differs from what this renders, so the
 * reference is never out of step with the code.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  ERROR_CATALOG,
  ERROR_OWNERS,
  type ErrorDescriptor,
  type ErrorOwner,
} from "../node/src/error-catalog.ts";

export const ERRORS_DOC = fileURLToPath(new URL("../docs/errors.md", import.meta.url));

const INTRO = `# Error codes

<!-- Generated from node/src/error-catalog.ts by \`npm run docs:errors\`: edit the catalog, not this file. -->

Every error Segmint reports on purpose carries a stable code: tests, scripts, logs, metrics and
peers match on it, never on the message. A command prints one line, \`error [CODE]: what
happened (what to do)\`, and exits 1; "what to do" is the error's own hint where the code that
raised it knows more, else the one below. Daemons log the code with each refusal, and the
orchestrator's \`/status\` lists the latest ones.

Codes are added, never renamed. Each belongs to the part of the node that raises it, and where
that part has an error class (\`ChainError\`, \`MediaError\`, ...) the class takes only its own
codes.

The **wire** column is the code a broadcaster is told when an orchestrator refuses its request
for this reason (docs/protocol.md lists the wire codes). A code with no wire code stays on the
side that raised it: a peer whose request meets it is answered \`INTERNAL\`. On
\`/segmint/transcode\`, a payments refusal other than \`BAD_TICKET\` and \`INSUFFICIENT_BALANCE\` is
still answered \`INTERNAL\`; the wire codes of \`SENDER_UNLOCKING\` and \`SENDER_FUNDS_TOO_LOW\` are
what \`/segmint/info\` answers.
`;

/** docs/errors.md as the catalog says it should read. */
export function renderErrorReference(): string {
  const byOwner = new Map<ErrorOwner, [string, ErrorDescriptor][]>();
  const entries: [string, ErrorDescriptor][] = Object.entries(ERROR_CATALOG);
  for (const [code, descriptor] of entries) {
    const list = byOwner.get(descriptor.owner) ?? [];
    list.push([code, descriptor]);
    byOwner.set(descriptor.owner, list);
  }
  const order: string[] = Object.keys(ERROR_OWNERS);
  const owners = [...byOwner.keys()].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const sections: string[] = [INTRO];
  for (const owner of owners) {
    const rows = (byOwner.get(owner) ?? []).map(([code, d]) => [
      `\`${code}\``,
      cell(d.title),
      cell(d.hint),
      d.wire === undefined ? "" : `\`${d.wire}\``,
    ]);
    const heading = ERROR_OWNERS[owner];
    sections.push(`## ${heading}\n\n${table(["code", "meaning", "what to do", "wire"], rows)}`);
  }
  return sections.join("\n");
}

/** Text as one table cell: pipes escaped so they do not split the row. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

/** A Markdown table with its columns padded to one width, as the other docs are written. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const rule = `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`;
  return `${[line(header), rule, ...rows.map(line)].join("\n")}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(ERRORS_DOC, renderErrorReference());
  console.log(`wrote ${ERRORS_DOC}`);
}
