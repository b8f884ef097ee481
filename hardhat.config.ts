import { createRequire } from "node:module";
import hardhatEthers from "@nomicfoundation/hardhat-ethers";
import hardhatIgnitionEthers from "@nomicfoundation/hardhat-ignition-ethers";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";
import hardhatTypechain from "@nomicfoundation/hardhat-typechain";
import { defineConfig } from "hardhat/config";

const require = createRequire(import.meta.url);
// The compiler ships inside the `solc` npm package, so builds work without internet
// (Hardhat would otherwise download it). Its version must match the package's.
const solcVersion: string = require("solc/package.json").version;

export default defineConfig({
  plugins: [hardhatEthers, hardhatIgnitionEthers, hardhatNetworkHelpers, hardhatTypechain],
  solidity: {
    version: solcVersion,
    path: require.resolve("solc/soljson.js"),
    settings: {
      evmVersion: "cancun",
      optimizer: { enabled: true, runs: 10_000 },
    },
  },
  paths: {
    sources: "./contracts",
    tests: { solidity: "./test/sol" },
  },
  test: {
    solidity: {
      // A fixed seed makes CI reproducible; change it (or remove it for a random one) to explore
      // other inputs locally.
      fuzz: { runs: 256, seed: "0x5e6d1a7" },
      invariant: { runs: 64, depth: 32 },
    },
  },
  networks: {
    hardhatMainnet: { type: "edr-simulated", chainType: "l1" },
  },
});
