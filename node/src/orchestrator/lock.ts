import { createHash } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { OrchestratorError } from "./errors.ts";

/** Who holds a lock: written into the lock file, read back by the next one to try. */
interface LockOwner {
  pid: number;
  what: string;
}

export interface HeldLock {
  release(): Promise<void>;
}

/** Whether process `pid` is alive (signal 0 checks without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return error instanceof Error && "code" in error && error.code === "EPERM";
  }
}

async function readOwner(file: string): Promise<LockOwner | null> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, "utf8"));
    if (typeof parsed !== "object" || parsed === null) return null;
    const pid = "pid" in parsed ? parsed.pid : undefined;
    const what = "what" in parsed ? parsed.what : undefined;
    return typeof pid === "number" && typeof what === "string" ? { pid, what } : null;
  } catch {
    return null;
  }
}

/**
 * Takes `file` as a lock for this process: created exclusively, holding our pid. A lock left by
 * a process that is gone (a crash, a SIGKILL) is taken over; one held by a live process is an
 * error with `code`, naming that process. Released by deleting the file, only while it is ours.
 */
export async function acquireLock(
  file: string,
  what: string,
  code: "DATA_DIR_IN_USE" | "KEY_IN_USE",
  hint: string,
): Promise<HeldLock> {
  const mine = JSON.stringify({ pid: process.pid, what });
  await mkdir(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, mine, { flag: "wx", mode: 0o600 });
      return {
        release: async () => {
          if ((await readOwner(file))?.pid === process.pid) await rm(file, { force: true });
        },
      };
    } catch (error) {
      if (!(error instanceof Error && "code" in error && error.code === "EEXIST")) throw error;
    }
    const owner = await readOwner(file);
    if (owner !== null && owner.pid !== process.pid && alive(owner.pid)) {
      throw new OrchestratorError(
        code,
        `${owner.what} is already in use by process ${owner.pid}`,
        { file, pid: owner.pid },
        { hint },
      );
    }
    await rm(file, { force: true });
  }
  throw new OrchestratorError(code, `could not take the lock ${file}`, { file }, { hint });
}

/** The data dir's lock: one orchestrator per data directory. */
export function lockDataDir(dataDir: string): Promise<HeldLock> {
  return acquireLock(
    path.join(dataDir, "orchestrator.lock"),
    `the data directory ${dataDir}`,
    "DATA_DIR_IN_USE",
    "stop the other orchestrator, or give this one its own --data-dir",
  );
}

/**
 * One orchestrator per key and chain on this machine, whatever its data dir: a second one would
 * rewrite the registry entry to its own addresses and strand the first. The chain is told by its
 * id and JSON-RPC URL (local dev chains share an id, and tests run several side by side). `dir`
 * is where the machine's key locks live (the system temp folder by default).
 */
export function lockKey(
  chain: { chainId: bigint; rpc: string },
  address: string,
  dir: string = path.join(tmpdir(), "segmint-locks"),
): Promise<HeldLock> {
  const id = createHash("sha256")
    .update(`${chain.chainId}|${new URL(chain.rpc).href}|${address.toLowerCase()}`)
    .digest("hex")
    .slice(0, 32);
  return acquireLock(
    path.join(dir, `orchestrator-${id}.lock`),
    `the key ${address} on chain ${chain.chainId} (${chain.rpc})`,
    "KEY_IN_USE",
    "one orchestrator per key: stop the other one, or run this one with another key",
  );
}
