import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli.ts";

/** The code in the CLI's one-line error, `error [CODE]: ...`. */
function errorCode(stderr: string): string | undefined {
  return /^error \[([A-Z_]+)\]/m.exec(stderr)?.[1];
}

describe("segmint broadcaster: settings are checked before anything starts", () => {
  let dir: string;
  const base = ["broadcaster", "--rpc", "http://127.0.0.1:9", "--deployment", "deployment.json"];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "segmint-live-cli-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses to start with no stream key, saying how to give one", async () => {
    const result = await runCli(base);
    expect(result.code).toBe(1);
    expect(errorCode(result.stderr)).toBe("LIVE_SETTINGS_INVALID");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("names a malformed --rtmp address", async () => {
    const result = await runCli([...base, "--stream-key", "a", "--rtmp", "1935"]);
    expect(result.code).toBe(1);
    expect(errorCode(result.stderr)).toBe("CONFIG_INVALID");
    expect(result.stderr).toContain("rtmp");
  });

  it("refuses an unknown key in the config file instead of dropping it", async () => {
    const config = join(dir, "broadcaster.json");
    await writeFile(config, JSON.stringify({ streamKeys: ["a"], maxSpnd: "5 tokens" }));
    const result = await runCli([...base, "--config", config]);
    expect(result.code).toBe(1);
    expect(errorCode(result.stderr)).toBe("CONFIG_INVALID");
    expect(result.stderr).toContain("maxSpnd");
  });
});
