import { chmod, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../node/src/log/index.ts";
import { PEER_KEY_FILE } from "../../../node/src/p2p/constants.ts";
import { isP2pError } from "../../../node/src/p2p/errors.ts";
import { createHost } from "../../../node/src/p2p/host.ts";
import { defaultP2pOptions } from "../../../node/src/p2p/options.ts";
import { peerIdOfDataDir } from "../../../node/src/p2p/peer-key.ts";
import { Testbed } from "./helpers.ts";

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  return isP2pError(error) ? error.code : undefined;
}

describe("p2p host", () => {
  const bed = new Testbed();
  afterEach(() => bed.close());

  it("keeps its peer id across restarts through a 0600 key file", async () => {
    const dataDir = await bed.dir();
    const first = await bed.host({ dataDir });
    const peerId = first.peerId.toString();
    await first.stop();
    expect((await stat(join(dataDir, PEER_KEY_FILE))).mode & 0o777).toBe(0o600);

    expect(await peerIdOfDataDir(dataDir)).toBe(peerId);
    const second = await bed.host({ dataDir });
    expect(second.peerId.toString()).toBe(peerId);
    const other = await bed.host();
    expect(other.peerId.toString()).not.toBe(peerId);
    // The restarted host is reachable under its old identity.
    await other.dial(second.getMultiaddrs());
    expect(other.getConnections(second.peerId)).toHaveLength(1);
  });

  it("refuses a key file other users can read, and a corrupt one", async () => {
    const dataDir = await bed.dir();
    await (await bed.host({ dataDir })).stop();
    const keyFile = join(dataDir, PEER_KEY_FILE);
    const options = { ...defaultP2pOptions.host, dataDir, listen: ["/ip4/127.0.0.1/tcp/0"] };
    await chmod(keyFile, 0o644);
    expect(await codeOf(createHost(options, silentLogger()))).toBe("P2P_PEER_KEY");
    await writeFile(keyFile, "garbage", { mode: 0o600 });
    await chmod(keyFile, 0o600);
    expect(await codeOf(createHost(options, silentLogger()))).toBe("P2P_PEER_KEY");
  });

  it("refuses a listen address that is not a multiaddr", async () => {
    const options = {
      ...defaultP2pOptions.host,
      dataDir: await bed.dir(),
      listen: ["127.0.0.1:4001"],
    };
    expect(await codeOf(createHost(options, silentLogger()))).toBe("P2P_BAD_OPTIONS");
  });
});
