import { describe, expect, it } from "vitest";
import { isSegmintError } from "../../../node/src/errors.ts";
import { toMultiaddr, toMultiaddrs } from "../../../node/src/p2p/addresses.ts";

describe("libp2p addresses as a person types them", () => {
  it("takes HOST:PORT besides multiaddrs, as TCP", () => {
    expect(toMultiaddrs("--listen", ["0.0.0.0:4001", "[::1]:4001", "[::]:0"])).toEqual([
      "/ip4/0.0.0.0/tcp/4001",
      "/ip6/::1/tcp/4001",
      "/ip6/::/tcp/0",
    ]);
    expect(
      toMultiaddrs("--announce", [
        "node1.example.org:4001",
        "198.51.100.4:4001",
        "[2001:db8::1]:4002",
        "/dns4/node.example.org/tcp/4001",
      ]),
    ).toEqual([
      "/dns4/node1.example.org/tcp/4001",
      "/ip4/198.51.100.4/tcp/4001",
      "/ip6/2001:db8::1/tcp/4002",
      "/dns4/node.example.org/tcp/4001",
    ]);
  });

  it("refuses anything else with P2P_ADDRESS_INVALID naming the flag and the value", () => {
    const refusal = (flag: "--listen" | "--announce", addr: string) => {
      try {
        toMultiaddr(flag, addr);
        return "accepted";
      } catch (error) {
        return isSegmintError(error) ? { code: error.code, details: error.details } : "uncoded";
      }
    };
    for (const [flag, addr] of [
      ["--announce", "/ip4/PUBLIC_IP/tcp/4001"], // the guide's placeholder, copied literally
      ["--announce", "PUBLIC_IP:4001"],
      ["--listen", "0.0.0.0"], // no port
      ["--listen", "0.0.0.0:70000"],
      ["--listen", "::1:4001"], // IPv6 needs brackets
      ["--listen", "[not-v6]:4001"],
      ["--listen", "300.1.2.3:4001"],
      ["--listen", "node1.example.org:4001"], // a node listens on addresses
      ["--announce", "198.51.100.4:0"],
      ["--announce", "http://node.example.org:4001"],
    ] as const) {
      expect({ addr, refusal: refusal(flag, addr) }).toEqual({
        addr,
        refusal: { code: "P2P_ADDRESS_INVALID", details: { flag, addr } },
      });
    }
  });
});
