import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SegmintError } from "../errors.ts";

const segmintBin = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../bin/segmint.js",
);

export interface ReadyOrchestrator {
  index: number;
  address: string;
  peerId: string;
  multiaddrs: string[];
  httpUrl: string;
  logFile: string;
  child: ChildProcess;
}

const readyLineSchema = (line: string) => {
  const parsed = JSON.parse(line) as Partial<
    Omit<ReadyOrchestrator, "index" | "logFile" | "child">
  > & {
    event?: string;
  };
  if (
    parsed.event !== "ready" ||
    typeof parsed.address !== "string" ||
    typeof parsed.peerId !== "string" ||
    !Array.isArray(parsed.multiaddrs) ||
    typeof parsed.httpUrl !== "string"
  ) {
    throw new Error(`not a ready line: ${line}`);
  }
  return {
    address: parsed.address,
    peerId: parsed.peerId,
    multiaddrs: parsed.multiaddrs,
    httpUrl: parsed.httpUrl,
  };
};

async function tail(file: string, lines: number): Promise<string> {
  try {
    return (await readFile(file, "utf8")).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * Starts `segmint orchestrator ARGS` as its own process (as an operator would run it), its logs
 * going to `logFile`, and resolves with what its ready line says. A process that exits or stays
 * silent past the timeout is killed and reported with the end of its log.
 */
export function spawnOrchestrator(
  index: number,
  args: string[],
  logFile: string,
  timeoutMs: number,
): Promise<ReadyOrchestrator> {
  const log = createWriteStream(logFile, { flags: "a" });
  const child = spawn(process.execPath, [segmintBin, "orchestrator", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, SEGMINT_LOG_LEVEL: process.env.SEGMINT_LOG_LEVEL ?? "info" },
  });
  child.stderr?.pipe(log);
  return new Promise((resolve, reject) => {
    let buffered = "";
    const fail = async (why: string) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(
        new SegmintError(
          "DEVNET_ORCHESTRATOR_FAILED",
          `orchestrator ${index} ${why}; the end of its log (${logFile}):\n${await tail(logFile, 15)}`,
          { index, logFile },
        ),
      );
    };
    const timer = setTimeout(
      () => void fail(`was not ready after ${timeoutMs / 1000} s`),
      timeoutMs,
    );
    const onExit = (code: number | null) => void fail(`exited with code ${code} while starting`);
    child.once("exit", onExit);
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      const newline = buffered.indexOf("\n");
      if (newline < 0) return;
      child.stdout?.off("data", onData);
      child.stdout?.resume();
      child.off("exit", onExit);
      clearTimeout(timer);
      try {
        resolve({ index, ...readyLineSchema(buffered.slice(0, newline)), logFile, child });
      } catch (error) {
        void fail(`printed an unexpected first line (${(error as Error).message})`);
      }
    };
    child.stdout?.on("data", onData);
  });
}

/** SIGTERM, then SIGKILL if the process has not exited within `graceMs`; resolves on exit. */
export async function stopProcess(child: ChildProcess, graceMs = 15_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}
