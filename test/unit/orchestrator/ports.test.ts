import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { isSegmintError } from "../../../node/src/errors.ts";
import { checkListenPorts } from "../../../node/src/orchestrator/ports.ts";

describe("libp2p listen ports checked at start-up", () => {
  let taken: Server | null = null;
  afterEach(async () => {
    await new Promise<void>((resolve) => (taken ? taken.close(() => resolve()) : resolve()));
    taken = null;
  });

  it("refuses a taken port with P2P_PORT_IN_USE and passes a free one, port 0 and non-TCP", async () => {
    const server = createServer();
    taken = server;
    const port = await new Promise<number>((resolve) => {
      server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        resolve(typeof address === "object" && address !== null ? address.port : 0);
      });
    });
    const error = await checkListenPorts([`/ip4/127.0.0.1/tcp/${port}`]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isSegmintError(error) ? error.code : error).toBe("P2P_PORT_IN_USE");
    await new Promise<void>((resolve) => server.close(() => resolve()));
    taken = null;
    // Free again: the check binds and releases it, leaving it free for libp2p.
    await checkListenPorts([`/ip4/127.0.0.1/tcp/${port}`, "/ip4/127.0.0.1/tcp/0", "/memory/x"]);
    await checkListenPorts([`/ip4/127.0.0.1/tcp/${port}`]);
  });
});
