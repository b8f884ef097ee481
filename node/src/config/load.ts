import { readFile } from "node:fs/promises";
import type { z } from "zod";
import { SegmintError } from "../errors.ts";

export interface ConfigProblem {
  /** Dotted path of the setting, e.g. "payments.maxPricePerPixel". */
  path: string;
  message: string;
}

export interface ConfigSources {
  /** Parsed contents of a config file (JSON). */
  file?: Record<string, unknown>;
  /** The process environment; keys SEGMINT_<SETTING_IN_UPPER_SNAKE_CASE> are read. */
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, already in the schema's shape; undefined means unset. */
  flags?: Record<string, unknown>;
}

/** `maxPricePerPixel` -> `SEGMINT_MAX_PRICE_PER_PIXEL`; nested paths join with `__`. */
export function envNameFor(path: readonly string[]): string {
  return `SEGMINT_${path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()).join("__")}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Later sources win, key by key, through nested objects (arrays are replaced whole). */
export function mergeLayers(...layers: Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      const prev = out[key];
      out[key] = isRecord(prev) && isRecord(value) ? mergeLayers(prev, value) : value;
    }
  }
  return out;
}

/**
 * Reads SEGMINT_* variables for the settings the schema's shape names. Values stay strings;
 * the schema coerces them (numbers, booleans, lists).
 */
export function envLayer(keys: readonly (readonly string[])[], env: NodeJS.ProcessEnv) {
  const layer: Record<string, unknown> = {};
  for (const path of keys) {
    const value = env[envNameFor(path)];
    if (value === undefined || value === "") continue;
    let node = layer;
    for (const part of path.slice(0, -1)) {
      const next = isRecord(node[part]) ? node[part] : {};
      node[part] = next;
      node = next;
    }
    const last = path[path.length - 1];
    if (last !== undefined) node[last] = value;
  }
  return layer;
}

/** Every leaf key path of a zod object schema (nested objects are walked). */
export function settingPaths(schema: z.ZodObject): string[][] {
  const paths: string[][] = [];
  const walk = (shape: Record<string, z.ZodType>, prefix: string[]) => {
    for (const [key, value] of Object.entries(shape)) {
      const inner = unwrap(value);
      if (isZodObject(inner)) walk(inner.shape, [...prefix, key]);
      else paths.push([...prefix, key]);
    }
  };
  walk(schema.shape, []);
  return paths;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  // Optional, default and nullable wrappers all expose the wrapped schema as `unwrap()`.
  while ("unwrap" in current && typeof current.unwrap === "function") {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}

function isZodObject(schema: z.ZodType): schema is z.ZodObject {
  return "shape" in schema && isRecord((schema as { shape?: unknown }).shape);
}

/**
 * Validates the merged file < env < flags layers against the schema, reporting EVERY problem
 * at once with its path (the way Hardhat validates its config), then returns the typed result
 * with the schema's defaults applied.
 */
export function resolveConfig<S extends z.ZodObject>(
  schema: S,
  sources: ConfigSources,
): z.output<S> {
  const merged = mergeLayers(
    sources.file ?? {},
    envLayer(settingPaths(schema), sources.env ?? {}),
    sources.flags ?? {},
  );
  const result = schema.safeParse(merged);
  if (result.success) return result.data;
  const problems: ConfigProblem[] = result.error.issues.map((issue) => {
    const path = issue.path.map(String);
    // Zod says "Invalid input" for a value nobody gave: say it is missing, and where it goes.
    const missing = path.length > 0 && valueAt(merged, path) === undefined;
    return {
      path: path.join(".") || "(root)",
      message: missing
        ? `missing (a flag, ${envNameFor(path)} or the config file sets it)`
        : issue.message,
    };
  });
  throw new SegmintError(
    "CONFIG_INVALID",
    `invalid configuration: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
    { problems },
    { hint: "fix the settings named above (flags, SEGMINT_* variables or the config file)" },
  );
}

function valueAt(root: Record<string, unknown>, path: readonly string[]): unknown {
  let node: unknown = root;
  for (const part of path) {
    if (!isRecord(node)) return undefined;
    node = node[part];
  }
  return node;
}

/** Reads a JSON config file; a missing or malformed file is a coded error naming the file. */
export async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new SegmintError("CONFIG_FILE_UNREADABLE", `cannot read the config file ${file}`, {
      file,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SegmintError(
      "CONFIG_FILE_MALFORMED",
      `the config file ${file} is not valid JSON: ${(error as Error).message}`,
      { file },
    );
  }
  if (!isRecord(parsed)) {
    throw new SegmintError(
      "CONFIG_FILE_MALFORMED",
      `the config file ${file} must hold a JSON object`,
      {
        file,
      },
    );
  }
  return parsed;
}
