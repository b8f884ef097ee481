#!/usr/bin/env node
// Entry point of the `segmint` command. The sources are TypeScript; tsx compiles them on load,
// so `npx segmint` works right after `npm ci` with no separate build step.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  process.stderr.write(
    `segmint needs Node.js 22.13 or later; this is ${process.version}. ` +
      "Install Node 22 (or run `npx -y node@22 ...`) and try again.\n",
  );
  process.exit(1);
}
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
