import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isSegmintError } from "../../../node/src/errors.ts";
import { lockDataDir, lockKey } from "../../../node/src/orchestrator/lock.ts";

/** The pid of a process that has exited: nothing lives under it now (pids are reused slowly). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(child.stdout.toString());
}

describe("orchestrator locks", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "segmint-lock-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const codeOf = (promise: Promise<unknown>) =>
    promise.then(
      () => "none",
      (error: unknown) => (isSegmintError(error) ? error.code : "uncoded"),
    );

  it("holds the data dir against a live process and releases it on release", async () => {
    const file = path.join(dir, "orchestrator.lock");
    // The parent of this test process is alive for the whole test.
    await writeFile(file, JSON.stringify({ pid: process.ppid, what: "the data directory" }));
    expect(await codeOf(lockDataDir(dir))).toBe("DATA_DIR_IN_USE");

    await rm(file);
    const held = await lockDataDir(dir);
    expect(JSON.parse(await readFile(file, "utf8"))).toMatchObject({ pid: process.pid });
    await held.release();
    expect(await codeOf(readFile(file, "utf8"))).toBe("uncoded");
  });

  it("takes over a lock left by a process that is gone", async () => {
    const file = path.join(dir, "orchestrator.lock");
    await writeFile(file, JSON.stringify({ pid: deadPid(), what: "the data directory" }));
    const held = await lockDataDir(dir);
    expect(JSON.parse(await readFile(file, "utf8"))).toMatchObject({ pid: process.pid });
    await held.release();
  });

  it("locks a key per chain: another chain or key is free", async () => {
    const address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    const chain = { chainId: 31337n, rpc: "http://127.0.0.1:8545" };
    const held = await lockKey(chain, address, dir);
    const [file] = await readdir(dir);
    // As another live process would hold it.
    await writeFile(path.join(dir, file ?? ""), JSON.stringify({ pid: process.ppid, what: "k" }));
    expect(await codeOf(lockKey(chain, address, dir))).toBe("KEY_IN_USE");
    const otherChain = await lockKey({ ...chain, rpc: "http://127.0.0.1:8546" }, address, dir);
    const otherKey = await lockKey(chain, "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", dir);
    await Promise.all([otherChain.release(), otherKey.release(), held.release()]);
  });
});
