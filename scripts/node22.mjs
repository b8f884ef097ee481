#!/usr/bin/env node
// Runs a command under Node.js 22.13 or later, whatever Node started it, so the README's
// commands work as written on a machine that only has an older Node (such as Node 20, which
// Hardhat 3 refuses). Plain JavaScript: it must run on the old Node itself.
//
//   node scripts/node22.mjs COMMAND [ARGS...]   run COMMAND with a Node 22 first on PATH
//   node scripts/node22.mjs --prepare           npm's prepare step: compile the contracts; on an
//                                               old Node, first reinstall under Node 22, since npm
//                                               on the old Node skips optional packages (Hardhat's
//                                               native EDR binding) whose engines ask for Node 22
//
// With Node 22.13+ already running, the command runs as it is and nothing is fetched. Otherwise
// the npm registry's `node` package provides the binary (`npx -y node@22`, cached by npm after
// the first time).
import { execFileSync, spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { delimiter, dirname } from "node:path";

const [major, minor] = process.versions.node.split(".").map(Number);
const newEnough = major > 22 || (major === 22 && minor >= 13);

function node22Dir() {
  process.stderr.write(
    `node22: this is Node ${process.version}; Hardhat and the node need 22.13 or later: ` +
      "using Node 22 from the npm registry (npx -y node@22)\n",
  );
  const path = execFileSync("npx", ["-y", "node@22", "-p", "process.execPath"], {
    cwd: tmpdir(),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
  return dirname(path);
}

/**
 * Runs the command to its end and resolves with its exit status. Ctrl-C reaches the child from
 * the terminal itself (the whole foreground group gets it), so this process only waits for the
 * child to finish its own shutdown; a SIGTERM sent to this process is passed on.
 */
function run(command, args, env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: "inherit", env });
    const onInterrupt = () => {};
    const onTerminate = () => child.kill("SIGTERM");
    process.on("SIGINT", onInterrupt);
    process.on("SIGTERM", onTerminate);
    child.once("error", (error) => {
      process.stderr.write(`node22: cannot run ${command}: ${error.message}\n`);
      resolve(1);
    });
    child.once("exit", (code, signal) => {
      process.off("SIGINT", onInterrupt);
      process.off("SIGTERM", onTerminate);
      resolve(code ?? (signal === "SIGINT" || signal === "SIGTERM" ? 0 : 1));
    });
  });
}

const args = process.argv.slice(2);
const env = newEnough
  ? process.env
  : { ...process.env, PATH: `${node22Dir()}${delimiter}${process.env.PATH ?? ""}` };

if (args[0] === "--prepare") {
  if (!newEnough) {
    // This npm ran on the old Node: install again under Node 22 (its own prepare step then
    // compiles, with a Node new enough to skip this branch).
    process.exit(await run("npm", ["ci", "--no-audit", "--no-fund"], env));
  }
  process.exit(await run("hardhat", ["build", "--quiet"], env));
}

if (args.length === 0) {
  process.stderr.write("usage: node scripts/node22.mjs COMMAND [ARGS...] | --prepare\n");
  process.exit(2);
}
process.exit(await run(args[0], args.slice(1), env));
