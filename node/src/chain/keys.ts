import { readFile } from "node:fs/promises";
import { Wallet } from "ethers";
import { ChainError } from "./errors.ts";

export interface KeySource {
  /** A hex private key (0x-prefixed or not). */
  privateKey?: string;
  /** An encrypted JSON keystore file (ethers/geth format). */
  keystoreFile?: string;
  /** A file whose first line is the keystore's password. */
  passwordFile?: string;
  /** The keystore's password itself (from SEGMINT_KEYSTORE_PASSWORD). */
  password?: string;
}

/**
 * Loads the Ethereum key a command signs with. The key and password are never logged; errors
 * name the file or the flag, not the secret.
 */
export async function loadWallet(source: KeySource): Promise<Wallet> {
  if (source.privateKey !== undefined && source.keystoreFile !== undefined) {
    throw new ChainError(
      "KEY_CONFLICT",
      "both a private key and a keystore were given",
      {},
      { hint: "pass only one of --key and --keystore" },
    );
  }
  if (source.privateKey !== undefined) {
    const hex = source.privateKey.trim();
    const normalized = hex.startsWith("0x") ? hex : `0x${hex}`;
    if (!/^0x[0-9a-fA-F]{64}$/.test(normalized)) {
      throw new ChainError(
        "KEY_INVALID",
        "the private key is not 32 bytes of hex",
        {},
        { hint: "pass 64 hex digits, with or without 0x" },
      );
    }
    try {
      return new Wallet(normalized);
    } catch {
      // 0 and values at or above the curve order are 32 bytes of hex but no key.
      throw new ChainError(
        "KEY_INVALID",
        "the private key is not a valid secp256k1 key (zero or above the curve order)",
        {},
        { hint: "pass the 64 hex digits of a real private key" },
      );
    }
  }
  if (source.keystoreFile !== undefined) {
    const file = source.keystoreFile;
    let json: string;
    try {
      json = await readFile(file, "utf8");
    } catch {
      throw new ChainError("KEYSTORE_UNREADABLE", `cannot read the keystore file ${file}`, {
        file,
      });
    }
    let password = source.password;
    if (source.passwordFile !== undefined) {
      try {
        password = (await readFile(source.passwordFile, "utf8")).split(/\r?\n/)[0] ?? "";
      } catch {
        throw new ChainError(
          "PASSWORD_FILE_UNREADABLE",
          `cannot read the password file ${source.passwordFile}`,
          { file: source.passwordFile },
        );
      }
    }
    if (password === undefined) {
      throw new ChainError(
        "KEYSTORE_PASSWORD_MISSING",
        `no password for the keystore ${file}`,
        { file },
        { hint: "pass --password-file FILE or set SEGMINT_KEYSTORE_PASSWORD" },
      );
    }
    try {
      const wallet = await Wallet.fromEncryptedJson(json, password);
      return new Wallet(wallet.privateKey);
    } catch {
      throw new ChainError(
        "KEYSTORE_DECRYPT_FAILED",
        `cannot decrypt the keystore ${file}: wrong password or not a keystore`,
        { file },
      );
    }
  }
  throw new ChainError(
    "KEY_MISSING",
    "no signing key given",
    {},
    { hint: "pass --key HEX, --keystore FILE, or set SEGMINT_PRIVATE_KEY" },
  );
}
