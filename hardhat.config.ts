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
      profiles: {
        // CI: a fixed seed makes every run reproducible. Handlers never let a call revert
        // unnoticed (they record violations), so failOnRevert only guards the handlers themselves.
        default: {
          fuzz: { runs: 256, seed: "0x5e6d1a7" },
          invariant: { runs: 64, depth: 32, failOnRevert: true },
        },
        // `npm run test:sol:deep`: a random seed and 10x the runs, for longer campaigns.
        deep: {
          fuzz: { runs: 2_560 },
          invariant: { runs: 640, depth: 32, failOnRevert: true },
        },
      },
    },
  },
  networks: {
    hardhatMainnet: { type: "edr-simulated", chainType: "l1" },
  },
});
