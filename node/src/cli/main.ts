import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { formatErrorLine } from "../errors.ts";
import { registerCommands } from "./commands.ts";

const program = new Command()
  .name("segmint")
  .description(
    "Segmint, an open video-transcoding marketplace: run a local chain, deploy the contracts, " +
      "transcode locally, run an orchestrator or broadcast a video.",
  )
  .version(packageVersion(), "-V, --version", "print the version")
  .showHelpAfterError("(run with --help for usage)")
  // Descriptions are written as lines of up to ~100 characters; a narrower wrap breaks them mid-line.
  .configureHelp({ helpWidth: Math.max(100, process.stdout.columns ?? 0) })
  .exitOverride();

registerCommands(program);

/** The version in package.json, the one the release is tagged with. */
function packageVersion(): string {
  const pkg: unknown = JSON.parse(
    readFileSync(new URL("../../../package.json", import.meta.url), "utf8"),
  );
  return typeof pkg === "object" &&
    pkg !== null &&
    "version" in pkg &&
    typeof pkg.version === "string"
    ? pkg.version
    : "unknown";
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help text).
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`${formatErrorLine(error)}\n`);
    if (process.env.SEGMINT_DEBUG) console.error(error);
    process.exitCode = 1;
  }
}
