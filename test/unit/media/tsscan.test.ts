import { describe, expect, it } from "vitest";
import { scanTsVideo } from "../../../node/src/media/tsscan.ts";

/** One 188-byte TS packet that starts a PES with the given stream id and PTS. */
function pesPacket(streamId: number, pts: number): Buffer {
  const packet = Buffer.alloc(188, 0xff);
  packet[0] = 0x47;
  packet[1] = 0x40 | 0x01; // payload unit start, PID 0x100
  packet[2] = 0x00;
  packet[3] = 0x10; // payload only
  const pes = [0, 0, 1, streamId, 0, 0, 0x80, 0x80, 5];
  const high = Math.floor(pts / 2 ** 30) & 0x07;
  const mid = Math.floor(pts / 2 ** 15) & 0x7fff;
  const low = pts & 0x7fff;
  pes.push(
    0x21 | (high << 1),
    mid >> 7,
    ((mid & 0x7f) << 1) | 1,
    low >> 7,
    ((low & 0x7f) << 1) | 1,
  );
  Buffer.from(pes).copy(packet, 4);
  return packet;
}

function continuation(): Buffer {
  const packet = Buffer.alloc(188, 0xab);
  packet[0] = 0x47;
  packet[1] = 0x01;
  packet[3] = 0x10;
  return packet;
}

describe("scanTsVideo", () => {
  it("counts video PES starts and measures their presentation span", () => {
    const start = 126_000;
    const packets: Buffer[] = [];
    // Decode order differs from presentation order (B-frames): the span uses sorted PTS.
    for (const frame of [0, 2, 1, 3]) {
      packets.push(pesPacket(0xe0, start + frame * 3000), continuation());
      packets.push(pesPacket(0xc0, start + frame * 1920)); // audio is ignored
    }
    const scan = scanTsVideo(Buffer.concat(packets));
    expect(scan.frames).toBe(4);
    expect(scan.startSeconds).toBeCloseTo(start / 90_000, 9);
    expect(scan.durationSeconds).toBeCloseTo(12_000 / 90_000, 9);
  });

  it("handles PTS values above 2^32 and returns zeros for no video", () => {
    const big = 2 ** 32 + 90_000;
    const scan = scanTsVideo(Buffer.concat([pesPacket(0xe0, big), pesPacket(0xe0, big + 3000)]));
    expect(scan.startSeconds).toBeCloseTo(big / 90_000, 6);
    expect(scanTsVideo(Buffer.alloc(376))).toEqual({
      frames: 0,
      durationSeconds: 0,
      startSeconds: 0,
    });
  });

  it("gives a lone frame the length it is told, since nothing in the stream measures it", () => {
    const lone = Buffer.concat([pesPacket(0xe0, 126_000), continuation()]);
    expect(scanTsVideo(lone).durationSeconds).toBe(0);
    expect(scanTsVideo(lone, 1 / 25).durationSeconds).toBeCloseTo(0.04, 9);
    // Two frames measure themselves; the hint is not used.
    const two = Buffer.concat([pesPacket(0xe0, 126_000), pesPacket(0xe0, 129_000)]);
    expect(scanTsVideo(two, 1 / 25).durationSeconds).toBeCloseTo(6000 / 90_000, 9);
  });
});
