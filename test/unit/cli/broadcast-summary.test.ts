import { describe, expect, it } from "vitest";
import type { BroadcastSummary } from "../../../node/src/broadcaster/index.ts";
import { formatSummary, requestedOrchestrators } from "../../../node/src/cli/broadcast.ts";

const A = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
const B = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";
const TOKEN = 10n ** 18n;

const summary: BroadcastSummary = {
  segments: 4,
  renditions: 1,
  variants: [{ name: "240p", width: 426, height: 240 }],
  orchestrators: { [A]: 4 },
  retries: 0,
  ticketsSent: 4,
  expectedValuePaid: "40000000000000",
  wallSeconds: 4,
  mediaSeconds: 4,
  realtimeFactor: 1,
  hlsDir: "/out",
  master: "/out/master.m3u8",
  normalized: null,
  suspended: [],
  spend: [
    {
      orchestrator: A,
      segments: 4,
      tickets: 4,
      faceValue: (4n * 10n ** 15n).toString(),
      expectedValue: "40000000000000",
      verificationFailures: 0,
    },
  ],
  pinnedUnavailable: { notFound: [B], refused: [] },
  funded: { deposit: (10n * TOKEN).toString(), reserve: TOKEN.toString() },
  resumed: 0,
  verification: { verifiedSegments: 4, spotChecks: 0, failures: [], rejectedValue: "0" },
};

describe("segmint broadcast's text summary", () => {
  it("says what each orchestrator was sent, who did not take work, and what was funded", () => {
    const text = formatSummary(summary, 2);
    expect(text).toContain(`orchestrator ${A}: 4 segments, 4 tickets, face value 0.004 SGM`);
    expect(text).toContain("only 1 of the 2 orchestrators asked for");
    expect(text).toContain(`pinned orchestrator ${B} was not found`);
    expect(text).toMatch(/funded +deposit \+10 SGM, reserve \+1 SGM/);
    const quiet = formatSummary({ ...summary, pinnedUnavailable: null, funded: null }, 1);
    expect(quiet).not.toMatch(/only|pinned|funded/);
  });

  it("asks for no more orchestrators than are pinned", () => {
    expect(requestedOrchestrators({ orchestrators: 2, pinnedOrchestrators: [] })).toBe(2);
    expect(requestedOrchestrators({ orchestrators: 2, pinnedOrchestrators: [A] })).toBe(1);
    expect(
      requestedOrchestrators({ orchestrators: 2, pinnedOrchestrators: [A, A.toUpperCase(), B] }),
    ).toBe(2);
  });
});
