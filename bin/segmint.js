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
const { register } = await import("tsx/esm/api");
register();
await import("../node/src/cli/main.ts");
