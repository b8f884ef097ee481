import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../../node/src/config/load.ts";
import { isSegmintError } from "../../../node/src/errors.ts";
import { p2pConfigSchema, p2pOptionsFromConfig } from "../../../node/src/p2p/config.ts";
import { defaultP2pOptions } from "../../../node/src/p2p/options.ts";

const peer = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";

describe("p2p settings", () => {
  it("defaults to the protocol's defaults", () => {
    const config = resolveConfig(p2pConfigSchema, {});
    expect(p2pOptionsFromConfig(config, "/data")).toEqual({
      ...defaultP2pOptions,
      host: { ...defaultP2pOptions.host, dataDir: "/data" },
    });
  });

  it("reads lists, booleans and numbers from SEGMINT_* variables", () => {
    const config = resolveConfig(p2pConfigSchema, {
      env: {
        SEGMINT_LISTEN: "/ip4/127.0.0.1/tcp/0, /ip4/127.0.0.1/tcp/4002",
        SEGMINT_BOOTSTRAP: `/ip4/10.0.0.1/tcp/4001/p2p/${peer}`,
        SEGMINT_MDNS: "true",
        SEGMINT_CAPACITY: "2",
      },
    });
    const options = p2pOptionsFromConfig(config, "/data");
    expect(options.host.listen).toEqual(["/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/tcp/4002"]);
    expect(options.bootstrap).toEqual([`/ip4/10.0.0.1/tcp/4001/p2p/${peer}`]);
    expect(options.host.mdns).toBe(true);
    expect(options.transcode.capacity).toBe(2);
  });

  it("reports every bad setting at once with its path", () => {
    let problems: unknown;
    try {
      resolveConfig(p2pConfigSchema, {
        file: { listen: ["0.0.0.0:4001"], bootstrap: ["/ip4/10.0.0.1/tcp/4001"], capacity: 0 },
      });
    } catch (error) {
      if (isSegmintError(error)) problems = error.details.problems;
    }
    expect(problems).toEqual([
      expect.objectContaining({ path: "listen.0" }),
      expect.objectContaining({ path: "bootstrap.0" }),
      expect.objectContaining({ path: "capacity" }),
    ]);
  });
});
