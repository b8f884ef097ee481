import { getAddress, verifyMessage } from "ethers";
import { P2pError } from "./errors.ts";

/**
 * Signed p2p objects (info answers, adverts, rendition receipts) are signed with the
 * orchestrator's Ethereum key as EIP-191 personal messages over a canonical JSON text. We
 * chose EIP-191 over EIP-712 because these objects are never checked on chain and carry an
 * open-ended capability document, which EIP-712's fixed struct types cannot express; the
 * domain tag on the first line keeps one kind of signature from passing as another.
 */

/** What signing needs from a key holder; an ethers Wallet satisfies it. */
export interface EthSigner {
  readonly address: string;
  signMessage(message: string): Promise<string>;
}

/**
 * JSON with object keys sorted at every level and no whitespace, so signer and verifier
 * produce the same bytes whatever order the fields were built or parsed in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) {
        throw new P2pError("P2P_BAD_HEADER", "a signed object holds a non-finite number", {});
      }
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
      const entries = Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
    }
    default:
      // bigint, function, symbol, undefined: the wire carries big numbers as decimal strings.
      throw new P2pError("P2P_BAD_HEADER", `a signed object holds a ${typeof value}`, {});
  }
}

export function signingText(domain: string, payload: unknown): string {
  return `${domain}\n${canonicalJson(payload)}`;
}

export function signPayload(signer: EthSigner, domain: string, payload: unknown): Promise<string> {
  return signer.signMessage(signingText(domain, payload));
}

/** The checksummed address that signed `payload` under `domain`, or a P2P_BAD_SIGNATURE error. */
export function recoverSigner(domain: string, payload: unknown, signature: string): string {
  try {
    return getAddress(verifyMessage(signingText(domain, payload), signature));
  } catch (error) {
    throw new P2pError(
      "P2P_BAD_SIGNATURE",
      "the signature cannot be recovered",
      { domain },
      {
        cause: error,
      },
    );
  }
}

export function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
