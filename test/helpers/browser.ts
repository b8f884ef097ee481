/**
 * A real Chromium for browser tests: Debian's `chromium` driven by playwright-core (which
 * ships no browser of its own). Each launch gets a fresh profile folder, removed on close.
 */
import { constants } from "node:fs";
import { access, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { z } from "zod";

/** Where Debian installs it; SEGMINT_CHROMIUM points elsewhere. */
export const chromiumPath = process.env.SEGMINT_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Headless, no sandbox (CI runs as root), and nothing that reaches the internet on its own
 * (component updates, sync, background fetches, QUIC probes); muted video may autoplay.
 */
export const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--autoplay-policy=no-user-gesture-required",
];

export interface TestBrowser {
  context: BrowserContext;
  /** A new tab at `url`; its uncaught script errors are collected in `pageErrors`. */
  open(url: string): Promise<Page>;
  /**
   * Uncaught exceptions in any tab opened with `open`. (Console errors are not collected: the
   * browser logs every 404 there, and a page polling for a stream that has not started yet
   * gets 404s on purpose.)
   */
  pageErrors: string[];
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  try {
    await access(chromiumPath, constants.X_OK);
  } catch {
    throw new Error(
      `no Chromium at ${chromiumPath}: install it (apt-get install chromium, as .ci/run does) or point SEGMINT_CHROMIUM at one`,
    );
  }
  const profile = await mkdtemp(join(tmpdir(), "segmint-chromium-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumArgs,
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
  const pageErrors: string[] = [];
  return {
    context,
    pageErrors,
    async open(url) {
      const page = await context.newPage();
      page.on("pageerror", (error) => pageErrors.push(error.message));
      await page.goto(url);
      return page;
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Evaluates `expression` in the page (test code has no DOM types, so pages are read through
 * expressions) and checks its value against `schema`.
 */
export async function readPage<T>(
  page: Page,
  expression: string,
  schema: z.ZodType<T>,
): Promise<T> {
  return schema.parse(await page.evaluate(expression));
}

/**
 * Polls `expression` in the page until its value (checked against `schema`) satisfies
 * `accept`; throws with the last value when `timeoutMs` passes, so a failure says what the page
 * showed.
 */
export async function waitInPage<T>(
  page: Page,
  expression: string,
  schema: z.ZodType<T>,
  accept: (value: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const raw: unknown = await page.evaluate(expression);
    const parsed = schema.safeParse(raw);
    if (parsed.success && accept(parsed.data)) return parsed.data;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(raw)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * What the player page (/watch/KEY) publishes as `window.segmintPlayer`: latencySeconds is the
 * wall clock minus the PROGRAM-DATE-TIME of the frame on screen (null until playing), level is
 * hls.js's level index (-1 before the first), levels are the master playlist's renditions.
 */
export const segmintPlayerSchema = z.object({
  state: z.string(),
  latencySeconds: z.number().nullable(),
  edgeLatencySeconds: z.number().nullable(),
  currentTime: z.number(),
  bufferSeconds: z.number(),
  playbackRate: z.number(),
  level: z.number(),
  autoLevel: z.boolean(),
  levels: z.array(
    z.object({ name: z.string(), width: z.number(), height: z.number(), bitrate: z.number() }),
  ),
  resolution: z.string().nullable(),
  bitrate: z.number().nullable(),
  droppedFrames: z.number(),
  decodedFrames: z.number(),
  stalls: z.number(),
  ended: z.boolean(),
});
export type SegmintPlayerState = z.infer<typeof segmintPlayerSchema>;

/** The player page's numbers now. */
export function readPlayer(page: Page): Promise<SegmintPlayerState> {
  return readPage(page, "window.segmintPlayer", segmintPlayerSchema);
}

/** Polls the player page's numbers until `accept` holds (see waitInPage). */
export function waitForPlayer(
  page: Page,
  accept: (player: SegmintPlayerState) => boolean,
  timeoutMs: number,
  what: string,
): Promise<SegmintPlayerState> {
  return waitInPage(page, "window.segmintPlayer", segmintPlayerSchema, accept, timeoutMs, what);
}
