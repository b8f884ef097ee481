import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  envNameFor,
  mergeLayers,
  resolveConfig,
  settingPaths,
} from "../../../node/src/config/load.ts";
import { SegmintError } from "../../../node/src/errors.ts";

const schema = z.object({
  port: z.coerce.number().int().min(1).max(65535).default(7935),
  maxPricePerPixel: z.coerce.bigint().nonnegative(),
  p2p: z
    .object({
      listen: z.string().default("/ip4/127.0.0.1/tcp/0"),
      mdns: z.stringbool().default(false),
    })
    .default({
      listen: "/ip4/127.0.0.1/tcp/0",
      mdns: false,
    }),
});

describe("config loading", () => {
  it("names environment variables after the setting path", () => {
    expect(envNameFor(["maxPricePerPixel"])).toBe("SEGMINT_MAX_PRICE_PER_PIXEL");
    expect(envNameFor(["p2p", "mdns"])).toBe("SEGMINT_P2P__MDNS");
    expect(settingPaths(schema)).toEqual([
      ["port"],
      ["maxPricePerPixel"],
      ["p2p", "listen"],
      ["p2p", "mdns"],
    ]);
  });

  it("layers file < env < flags and applies defaults", () => {
    const config = resolveConfig(schema, {
      file: { port: 1000, maxPricePerPixel: "5", p2p: { listen: "/ip4/127.0.0.1/tcp/1" } },
      env: { SEGMINT_PORT: "2000", SEGMINT_P2P__MDNS: "true" },
      flags: { port: 3000, maxPricePerPixel: undefined },
    });
    expect(config).toEqual({
      port: 3000,
      maxPricePerPixel: 5n,
      p2p: { listen: "/ip4/127.0.0.1/tcp/1", mdns: true },
    });
  });

  it("reports every problem at once with its path", () => {
    try {
      resolveConfig(schema, { env: { SEGMINT_PORT: "99999", SEGMINT_P2P__MDNS: "maybe" } });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SegmintError);
      const e = error as SegmintError<"CONFIG_INVALID", { problems: { path: string }[] }>;
      expect(e.code).toBe("CONFIG_INVALID");
      expect(e.details.problems.map((p) => p.path).sort()).toEqual([
        "maxPricePerPixel",
        "p2p.mdns",
        "port",
      ]);
    }
  });

  it("says a setting nobody gave is missing and names its variable, not zod's Invalid input", () => {
    const result = (() => {
      try {
        resolveConfig(schema, {});
        return null;
      } catch (error) {
        return error instanceof SegmintError ? error : null;
      }
    })();
    expect(result?.code).toBe("CONFIG_INVALID");
    expect(result?.details).toMatchObject({
      problems: [{ path: "maxPricePerPixel", message: expect.stringContaining("missing") }],
    });
    expect(result?.message).toContain("SEGMINT_MAX_PRICE_PER_PIXEL");
  });

  it("merges nested objects key by key", () => {
    expect(mergeLayers({ a: { b: 1, c: 2 } }, { a: { c: 3 } })).toEqual({ a: { b: 1, c: 3 } });
  });
});
