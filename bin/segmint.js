#!/usr/bin/env node
// Entry point of the `segmint` command. The sources are TypeScript; tsx compiles them on load,
// so `npx segmint` works right after `npm ci` with no separate build step.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  // An older Node (Hardhat and node:sqlite need 22.13): run again under Node 22 from the npm
  // registry (scripts/node22.mjs says so on stderr), passing signals and the exit code through.
  const { spawn } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  const here = fileURLToPath(import.meta.url);
  const wrapper = fileURLToPath(new URL("../scripts/node22.mjs", import.meta.url));
  const child = spawn(process.execPath, [wrapper, "node", here, ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => child.kill("SIGTERM"));
  child.once("exit", (code) => process.exit(code ?? 1));
} else {
  // node:sqlite (the winning-ticket journal) is stable in practice on Node 22 but still prints an
  // ExperimentalWarning on first use; keep that one line out of operators' terminals.
  const emitWarning = process.emitWarning;
  process.emitWarning = (warning, ...rest) => {
    const text = typeof warning === "string" ? warning : warning?.message;
    if (typeof text === "string" && text.startsWith("SQLite is an experimental feature")) return;
    return emitWarning.call(process, warning, ...rest);
  };
  const { register } = await import("tsx/esm/api");
  register();
  await import("../node/src/cli/main.ts");
}
