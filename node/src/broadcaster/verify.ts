import { createHash } from "node:crypto";
import type { RenditionMeasurement } from "../media/interface.ts";
import { renditionReceipt } from "../p2p/messages.ts";
import type { ReceivedRendition } from "../p2p/transcode-client.ts";
import { receiptSigner } from "../p2p/transcode-client.ts";
import { BroadcasterError } from "./errors.ts";
import type { VerifiedRendition } from "./interface.ts";

export interface VerifyInput {
  streamId: string;
  seq: number;
  /** The orchestrator's Ethereum address (from its signed info). */
  orchestrator: string;
  signature: string;
  renditions: readonly ReceivedRendition[];
  /** Each asked profile's expected output size. */
  expected: ReadonlyMap<string, { width: number; height: number }>;
  /** The source segment's measured video duration, seconds. */
  sourceDurationSeconds: number;
  /** Allowed difference between a rendition's duration and the source's. */
  durationToleranceSeconds: number;
}

export type Measure = (data: Uint8Array) => Promise<RenditionMeasurement>;

function mismatch(field: string, details: Record<string, unknown>): never {
  throw new BroadcasterError(
    "VERIFICATION_FAILED",
    `the orchestrator's result fails verification: ${field}`,
    { field, ...details },
    { hint: "the segment is retried on another orchestrator" },
  );
}

/**
 * Checks a result without trusting the orchestrator: the receipt signature recovers to its
 * address, every body matches its hash, every asked profile came back once, and the size,
 * frame count, pixel count (what we pay for) and duration measured again from the bytes
 * agree with its claims and with what we asked. The transport already checked hashes and the
 * signature; checking again here keeps this step sound whatever transport delivered the bytes.
 */
export async function verifyResult(
  input: VerifyInput,
  measure: Measure,
): Promise<VerifiedRendition[]> {
  const receipt = renditionReceipt(input.streamId, input.seq, input.renditions);
  let signer: string;
  try {
    signer = receiptSigner(receipt, input.signature);
  } catch (cause) {
    throw new BroadcasterError(
      "VERIFICATION_FAILED",
      "the receipt signature cannot be recovered",
      { field: "signature" },
      { cause },
    );
  }
  if (signer.toLowerCase() !== input.orchestrator.toLowerCase()) {
    mismatch("signature", { signer, orchestrator: input.orchestrator });
  }
  const returned = input.renditions.map((r) => r.profile).sort();
  const asked = [...input.expected.keys()].sort();
  if (returned.join(",") !== asked.join(",")) mismatch("profiles", { asked, returned });

  return Promise.all(
    input.renditions.map(async (r): Promise<VerifiedRendition> => {
      const sha256 = createHash("sha256").update(r.data).digest("hex");
      if (sha256 !== r.sha256) mismatch("sha256", { profile: r.profile });
      let measured: RenditionMeasurement;
      try {
        measured = await measure(r.data);
      } catch (cause) {
        throw new BroadcasterError(
          "VERIFICATION_FAILED",
          `rendition ${r.profile} is not readable video`,
          { field: "media", profile: r.profile },
          { cause },
        );
      }
      const want = input.expected.get(r.profile);
      if (want === undefined) mismatch("profiles", { profile: r.profile });
      const claimed = { width: r.width, height: r.height, frames: r.frames, pixels: r.pixels };
      const got = {
        width: measured.width,
        height: measured.height,
        frames: measured.frames,
        pixels: measured.pixels,
      };
      for (const field of ["width", "height", "frames", "pixels"] as const) {
        if (claimed[field] !== got[field]) {
          mismatch(field, { profile: r.profile, claimed: claimed[field], measured: got[field] });
        }
      }
      if (measured.width !== want.width || measured.height !== want.height) {
        mismatch("resolution", {
          profile: r.profile,
          expected: `${want.width}x${want.height}`,
          measured: `${measured.width}x${measured.height}`,
        });
      }
      const off = Math.abs(measured.durationSeconds - input.sourceDurationSeconds);
      if (off > input.durationToleranceSeconds) {
        mismatch("duration", {
          profile: r.profile,
          expected: input.sourceDurationSeconds,
          measured: measured.durationSeconds,
        });
      }
      return {
        profile: r.profile,
        data: r.data,
        width: measured.width,
        height: measured.height,
        frames: measured.frames,
        pixels: measured.pixels,
        durationSeconds: measured.durationSeconds,
        sha256,
      };
    }),
  );
}
