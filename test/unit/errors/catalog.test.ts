import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  describeError,
  ERROR_CATALOG,
  ERROR_OWNERS,
  type ErrorDescriptor,
  wireCodeOf,
} from "../../../node/src/error-catalog.ts";
import { formatErrorLine, SegmintError } from "../../../node/src/errors.ts";
import { MediaError } from "../../../node/src/media/errors.ts";
import { WIRE_ERROR_CODES } from "../../../node/src/p2p/errors.ts";
import { BAD_TICKET_REASONS, badTicket } from "../../../node/src/payments/errors.ts";
import { ERRORS_DOC, renderErrorReference } from "../../../scripts/docs-errors.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const SOURCE = join(ROOT, "node/src");
const CATALOG_FILE = "node/src/error-catalog.ts";
const entries: [string, ErrorDescriptor][] = Object.entries(ERROR_CATALOG);

/** A code as Segmint writes them: upper case words joined by underscores. */
const CODE = "[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*";
/**
 * Where a code is raised: an error or refusal constructor, or a helper named for errors,
 * refusals or failures, whose first argument is a code (`new MediaError("INPUT_EMPTY"`,
 * `refusal("INGEST_IDLE"`, `errors.error("TICKET_EXPIRED"`), and a `code` property or variable
 * given one (`{ ok: false, code: "INTERNAL" }`). Other calls (`kill("SIGTERM")`) are not codes.
 */
const RAISED = [
  new RegExp(String.raw`(?:new\s+)?([A-Za-z_$][\w$]*)\(\s*"(${CODE})"`, "g"),
  new RegExp(String.raw`()(?<![.\w$])code\s*(?::|=(?!=))\s*"(${CODE})"`, "g"),
];
/** The callees of the first pattern that take a code (or, for reason helpers, a reason). */
const TAKES_CODE = /error|refus|reject|fail|badTicket/i;
/** Helpers whose first argument is a detail, not a code, and the code they raise. */
const REASON_HELPERS: Record<string, { code: string; reasons: readonly string[] }> = {
  badTicket: { code: "BAD_TICKET", reasons: BAD_TICKET_REASONS },
};

interface Raised {
  code: string;
  at: string;
}

/** Every code raised in `text` (comments left out), with the line it is raised on. */
function codesRaisedIn(text: string, file: string): Raised[] {
  const code = withoutComments(text);
  const found: Raised[] = [];
  for (const pattern of RAISED) {
    for (const match of code.matchAll(pattern)) {
      const callee = match[1] ?? "";
      const literal = match[2] ?? "";
      if (callee !== "" && !TAKES_CODE.test(callee)) continue;
      const line = code.slice(0, match.index).split("\n").length;
      const helper = REASON_HELPERS[callee];
      if (helper !== undefined) {
        // The reason is a detail value; the helper raises its one code.
        if (!helper.reasons.includes(literal)) {
          found.push({ code: `${callee} reason ${literal}`, at: `${file}:${line}` });
        }
        found.push({ code: helper.code, at: `${file}:${line}` });
        continue;
      }
      found.push({ code: literal, at: `${file}:${line}` });
    }
  }
  return found;
}

/** The text with comments blanked out, lines kept, so a code named in prose is not "raised". */
function withoutComments(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (block) => block.replace(/[^\n]/g, " "))
    .split("\n")
    .map((line) => (line.trimStart().startsWith("//") ? "" : line))
    .join("\n");
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts"))
    .map((name) => join(dir, name));
}

function raisedInSource(): Raised[] {
  return sourceFiles(SOURCE).flatMap((file) => {
    const rel = relative(ROOT, file);
    return rel === CATALOG_FILE ? [] : codesRaisedIn(readFileSync(file, "utf8"), rel);
  });
}

/** The entry to paste into the catalog for a missing code, its owner guessed from its folder. */
function entryFor(missing: Raised): string {
  const folder = /^node\/src\/([^/.]+)\//.exec(missing.at)?.[1] ?? "";
  const owner = Object.hasOwn(ERROR_OWNERS, folder) ? folder : "OWNER";
  return `${missing.code}: { owner: "${owner}", title: "what it means", hint: "what to do" },`;
}

describe("the error catalog", () => {
  it("holds every code raised in node/src", () => {
    const missing = new Map<string, Raised[]>();
    for (const r of raisedInSource()) {
      if (describeError(r.code) === undefined)
        missing.set(r.code, [...(missing.get(r.code) ?? []), r]);
    }
    const report = [...missing.values()].map(
      (at) => `  ${at.map((r) => r.at).join(", ")}\n    ${entryFor(at[0] ?? { code: "", at: "" })}`,
    );
    expect(
      [...missing.keys()],
      `codes raised but not in the catalog. Add each entry to ERROR_CATALOG in ${CATALOG_FILE}, ` +
        `then run \`npm run docs:errors\`:\n${report.join("\n")}\n`,
    ).toEqual([]);
  });

  it("finds codes in each way they are raised", () => {
    const sample = [
      'throw new MediaError("INPUT_EMPTY", "empty", {});',
      '  // new SegmintError("IN_A_COMMENT", ...) is prose',
      'return refusal("INGEST_IDLE", "idle");',
      'throw badTicket("EXPIRED", "expired");',
      'throw badTicket("NOT_A_REASON", "x");',
      'return { ok: false, code: "INTERNAL", message };',
      'if (error.code === "COMPARED_ONLY") return;',
      'const label = isMediaError(error) ? error.code : "A_LABEL";',
      'child.kill("SIGTERM");',
    ].join("\n");
    expect(codesRaisedIn(sample, "sample.ts").map((r) => r.code)).toEqual([
      "INPUT_EMPTY",
      "INGEST_IDLE",
      "BAD_TICKET",
      "badTicket reason NOT_A_REASON",
      "BAD_TICKET",
      "INTERNAL",
    ]);
    // And in the real tree: a constructor, a refusal helper, a reason helper, a `code:` field.
    const codes = new Set(raisedInSource().map((r) => r.code));
    for (const code of ["FFMPEG_NOT_FOUND", "INGEST_IDLE", "BAD_TICKET", "REGISTRATION_LOST"]) {
      expect(codes.has(code), code).toBe(true);
    }
  });

  it("names no code that nothing in node/src raises any more", () => {
    const text = sourceFiles(SOURCE)
      .filter((file) => relative(ROOT, file) !== CATALOG_FILE)
      .map((file) => withoutComments(readFileSync(file, "utf8")))
      .join("\n");
    const stale = entries.map(([code]) => code).filter((code) => !text.includes(`"${code}"`));
    expect(stale, `remove these from ${CATALOG_FILE} (and run npm run docs:errors)`).toEqual([]);
  });

  it("gives every code an owner, a one-line title and a one-line hint", () => {
    for (const [code, d] of entries) {
      expect(code, code).toMatch(new RegExp(`^${CODE}$`));
      expect(Object.hasOwn(ERROR_OWNERS, d.owner), code).toBe(true);
      for (const text of [d.title, d.hint]) {
        expect(text.trim().length, code).toBeGreaterThan(0);
        expect(text, code).not.toMatch(/\n/);
        expect(text, code).not.toMatch(/\.$/);
      }
    }
  });

  it("maps only to real wire codes, and every wire code names itself", () => {
    const wire: readonly string[] = WIRE_ERROR_CODES;
    for (const [code, d] of entries) {
      if (d.wire !== undefined) expect(wire, code).toContain(d.wire);
      if (wire.includes(code)) expect(d.wire, code).toBe(code);
    }
    for (const code of WIRE_ERROR_CODES) {
      expect(describeError(code)?.wire, `add ${code} to ${CATALOG_FILE} with wire: "${code}"`).toBe(
        code,
      );
    }
    // What the orchestrator answers for media refusals, as it did by prefix before.
    expect(wireCodeOf("INPUT_TOO_LARGE")).toBe("SEGMENT_TOO_LARGE");
    expect(wireCodeOf("INPUT_NO_KEYFRAME")).toBe("BAD_SEGMENT");
    expect(wireCodeOf("PROFILE_UNKNOWN")).toBe("BAD_REQUEST");
    expect(wireCodeOf("TRANSCODE_TIMEOUT")).toBe("TIMEOUT");
    expect(wireCodeOf("FFMPEG_FAILED")).toBeUndefined();
    expect(wireCodeOf("NOT_A_CODE")).toBeUndefined();
  });

  it("gives an error without a hint of its own the catalog's, and keeps its own", () => {
    const bare = new SegmintError("NOTHING_TO_WITHDRAW", "no fees", {});
    expect(bare.hint).toBe(ERROR_CATALOG.NOTHING_TO_WITHDRAW.hint);
    expect(formatErrorLine(bare)).toContain(`(${ERROR_CATALOG.NOTHING_TO_WITHDRAW.hint})`);
    const own = new MediaError("INPUT_EMPTY", "empty", {}, { hint: "send bytes" });
    expect(own.hint).toBe("send bytes");
    expect(badTicket("EXPIRED", "expired").details.reason).toBe("EXPIRED");
  });

  it("takes only catalog codes (checked by the type checker)", () => {
    // @ts-expect-error: a code outside the catalog does not compile.
    const unknown = new SegmintError("NOT_IN_THE_CATALOG", "x", {});
    // @ts-expect-error: a subsystem class takes only its own codes.
    const foreign = new MediaError("BAD_TICKET", "x");
    expect([unknown.hint, foreign.code]).toEqual(["", "BAD_TICKET"]);
  });

  it("is what docs/errors.md says (npm run docs:errors writes it)", () => {
    const written = readFileSync(ERRORS_DOC, "utf8");
    for (const [code] of entries) expect(written, code).toContain(`\`${code}\``);
    expect(written === renderErrorReference(), "run npm run docs:errors").toBe(true);
  });
});
