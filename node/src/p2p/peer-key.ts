import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { PEER_KEY_FILE } from "./constants.ts";
import { P2pError } from "./errors.ts";

/**
 * The libp2p identity key, kept in `<dataDir>/peer.key` (libp2p's protobuf key encoding) so
 * the peer id, which the on-chain registry records, survives restarts.
 */
export async function loadOrCreatePeerKey(dataDir: string): Promise<PrivateKey> {
  const path = join(dataDir, PEER_KEY_FILE);
  const existing = await readKeyFile(path);
  if (existing !== null) return existing;

  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const key = await generateKeyPair("Ed25519");
  // Write a temp file and rename it into place, so a crash never leaves a half-written key
  // that would change the peer id on the next start.
  const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(privateKeyToProtobuf(key));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw new P2pError(
      "P2P_PEER_KEY",
      `cannot write the peer key ${path}`,
      { path },
      {
        hint: "check that the data dir is writable",
        cause: error,
      },
    );
  }
  return key;
}

async function readKeyFile(path: string): Promise<PrivateKey | null> {
  let bytes: Buffer;
  try {
    const info = await stat(path);
    // A key readable by others lets them impersonate this orchestrator on the network.
    if ((info.mode & 0o077) !== 0) {
      throw new P2pError(
        "P2P_PEER_KEY",
        `the peer key ${path} is readable by other users (mode ${(info.mode & 0o777).toString(8)})`,
        { path },
        { hint: `run: chmod 600 ${path}` },
      );
    }
    bytes = await readFile(path);
  } catch (error) {
    if (error instanceof P2pError) throw error;
    if (isNotFound(error)) return null;
    throw new P2pError(
      "P2P_PEER_KEY",
      `cannot read the peer key ${path}`,
      { path },
      {
        cause: error,
      },
    );
  }
  try {
    return privateKeyFromProtobuf(bytes);
  } catch (error) {
    throw new P2pError(
      "P2P_PEER_KEY",
      `the peer key ${path} is corrupt`,
      { path },
      {
        hint: "restore it from a backup; deleting it gives this node a new peer id, which must then be re-registered on chain",
        cause: error,
      },
    );
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && "code" in error && error.code === "ENOENT";
}

/**
 * The peer id this data dir's node runs under (creating the key on first use), for commands
 * that register it on chain before the daemon first starts.
 */
export async function peerIdOfDataDir(dataDir: string): Promise<string> {
  return peerIdFromPrivateKey(await loadOrCreatePeerKey(dataDir)).toString();
}
