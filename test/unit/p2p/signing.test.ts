import { Wallet } from "ethers";
import { describe, expect, it } from "vitest";
import { SIGNING_DOMAIN } from "../../../node/src/p2p/constants.ts";
import { isP2pError } from "../../../node/src/p2p/errors.ts";
import { canonicalJson, recoverSigner, signPayload } from "../../../node/src/p2p/signing.ts";

const wallet = Wallet.createRandom();

describe("canonical JSON signing", () => {
  it("is independent of key order and drops undefined fields", () => {
    const a = canonicalJson({ b: 1, a: { d: [1, "x", null], c: true }, u: undefined });
    const b = canonicalJson({ a: { c: true, d: [1, "x", null] }, b: 1 });
    expect(a).toBe(b);
    expect(a).toBe('{"a":{"c":true,"d":[1,"x",null]},"b":1}');
  });

  it("refuses values JSON cannot carry exactly", () => {
    for (const bad of [{ n: 10n }, { n: Number.NaN }, { f: () => 1 }]) {
      let code: string | undefined;
      try {
        canonicalJson(bad);
      } catch (error) {
        code = isP2pError(error) ? error.code : undefined;
      }
      expect(code).toBe("P2P_BAD_HEADER");
    }
  });

  it("recovers the signer, and a different address for another domain or payload", async () => {
    const payload = { price: "10", peer: "x" };
    const signature = await signPayload(wallet, SIGNING_DOMAIN.advert, payload);
    expect(recoverSigner(SIGNING_DOMAIN.advert, { peer: "x", price: "10" }, signature)).toBe(
      wallet.address,
    );
    expect(recoverSigner(SIGNING_DOMAIN.info, payload, signature)).not.toBe(wallet.address);
    expect(recoverSigner(SIGNING_DOMAIN.advert, { ...payload, price: "11" }, signature)).not.toBe(
      wallet.address,
    );
  });

  it("reports an unrecoverable signature as P2P_BAD_SIGNATURE", () => {
    let code: string | undefined;
    try {
      recoverSigner(SIGNING_DOMAIN.advert, {}, `0x${"00".repeat(65)}`);
    } catch (error) {
      code = isP2pError(error) ? error.code : undefined;
    }
    expect(code).toBe("P2P_BAD_SIGNATURE");
  });
});
