import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  artifactPath,
  CONTRACT_NAMES,
  loadArtifact,
  loadArtifacts,
} from "../../../node/src/chain/artifacts.ts";
import { checkDeployParams, defaultDeployParams } from "../../../node/src/chain/deploy.ts";
import {
  type Deployment,
  parseDeployment,
  readDeployment,
  serializeDeployment,
  writeDeployment,
} from "../../../node/src/chain/deployment.ts";
import type { SegmintError } from "../../../node/src/errors.ts";

const sample: Deployment = {
  chainId: 31337,
  deploymentBlock: 1,
  deployer: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
  params: { ...defaultDeployParams, inflationPerRound: 10n ** 22n, initialSupply: 10n ** 25n },
  contracts: {
    Token: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    RoundsManager: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    BondingManager: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
    Minter: "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9",
    TicketBroker: "0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9",
    OrchestratorRegistry: "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707",
  },
};

async function caught(action: () => Promise<unknown> | unknown): Promise<SegmintError> {
  try {
    await action();
  } catch (error) {
    return error as SegmintError;
  }
  throw new Error("expected an error");
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "segmint-deployment-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("deployment file", () => {
  it("round-trips through JSON with token amounts as decimal strings", async () => {
    const file = path.join(dir, "nested", "deployment.json");
    await writeDeployment(file, sample);
    const text = await readFile(file, "utf8");
    expect(JSON.parse(text).params.inflationPerRound).toBe("10000000000000000000000");
    expect(await readDeployment(file)).toEqual(sample);
    expect(serializeDeployment(sample)).toBe(text);
    // Only the file itself is left behind (the temporary file was renamed).
    expect(await readdir(path.dirname(file))).toEqual(["deployment.json"]);
  });

  it("normalizes address case to checksums", () => {
    const lower = { ...sample, deployer: sample.deployer.toLowerCase() };
    expect(
      parseDeployment(
        JSON.parse(serializeDeployment(sample).replace(sample.deployer, lower.deployer)),
      ).deployer,
    ).toBe(sample.deployer);
  });

  it("names every bad field at once", async () => {
    const bad = JSON.parse(serializeDeployment(sample));
    bad.chainId = -1;
    bad.contracts.Token = "0x1234";
    delete bad.contracts.Minter;
    bad.params.initialSupply = "12abc";
    bad.extra = true;
    const error = await caught(() => parseDeployment(bad, "x.json"));
    expect(error.code).toBe("DEPLOYMENT_INVALID");
    const paths = (error.details.problems as { path: string }[]).map((p) => p.path).sort();
    expect(paths).toEqual([
      "(root)",
      "chainId",
      "contracts.Minter",
      "contracts.Token",
      "params.initialSupply",
    ]);
  });

  it("reports a missing file and a file that is not JSON", async () => {
    expect((await caught(() => readDeployment(path.join(dir, "none.json")))).code).toBe(
      "DEPLOYMENT_NOT_FOUND",
    );
    const file = path.join(dir, "broken.json");
    await writeFile(file, "{ not json");
    expect((await caught(() => readDeployment(file))).code).toBe("DEPLOYMENT_INVALID");
  });

  it("reports a folder it cannot write to, leaving no temporary file", async () => {
    const blocker = path.join(dir, "blocker");
    await writeFile(blocker, "");
    const error = await caught(() =>
      writeDeployment(path.join(blocker, "deployment.json"), sample),
    );
    expect(error.code).toBe("DEPLOYMENT_WRITE_FAILED");
    expect(await readdir(dir)).toEqual(["blocker"]);
  });
});

describe("artifacts", () => {
  it("loads every contract's ABI and bytecode from the build output", async () => {
    const all = await loadArtifacts();
    for (const name of CONTRACT_NAMES) {
      expect(all[name].contractName).toBe(name);
      expect(all[name].bytecode).toMatch(/^0x[0-9a-f]+$/);
      expect(Array.isArray(all[name].abi)).toBe(true);
    }
    expect(artifactPath("TicketBroker")).toMatch(
      /artifacts\/contracts\/payments\/TicketBroker\.sol\/TicketBroker\.json$/,
    );
  });

  it("says to build when the artifacts are missing or broken", async () => {
    const missing = await caught(() => loadArtifact("Token", { root: dir }));
    expect([missing.code, missing.hint]).toEqual(["ARTIFACTS_MISSING", "run npm run build"]);
    const file = artifactPath("Minter", dir);
    await mkdir(path.dirname(file), { recursive: true });
    const write = (artifact: unknown) => writeFile(file, JSON.stringify(artifact));
    const code = async () => (await caught(() => loadArtifact("Minter", { root: dir }))).code;

    await write({ contractName: "Minter", abi: [], bytecode: "0x", deployedBytecode: "0x00" });
    expect(await code()).toBe("ARTIFACTS_INVALID");
    await writeFile(file, "nope");
    expect(await code()).toBe("ARTIFACTS_INVALID");
    await write({ contractName: "Token", abi: [], bytecode: "0x00", deployedBytecode: "0x00" });
    expect(await code()).toBe("ARTIFACTS_INVALID");
    // Coverage-instrumented code is over the EIP-170 limit and could never be deployed.
    const huge = `0x${"00".repeat(24_577)}`;
    await write({ contractName: "Minter", abi: [], bytecode: "0x00", deployedBytecode: huge });
    const instrumented = await caught(() => loadArtifact("Minter", { root: dir }));
    expect([instrumented.code, instrumented.hint]).toEqual([
      "ARTIFACTS_INVALID",
      "run npm run build",
    ]);
    // A good artifact loads.
    await write({ contractName: "Minter", abi: [], bytecode: "0x00", deployedBytecode: "0x00" });
    expect((await loadArtifact("Minter", { root: dir })).bytecode).toBe("0x00");
  });
});

describe("deploy parameters", () => {
  it("accepts the defaults and names each bad field", () => {
    expect(checkDeployParams(defaultDeployParams)).toEqual([]);
    const problems = checkDeployParams({
      ...defaultDeployParams,
      roundLength: 0,
      maxActiveSetSize: 101,
      unlockPeriod: 1.5,
      inflationPerRound: -1n,
      initialSupply: 1n << 256n,
    });
    expect(problems.map((p) => p.path).sort()).toEqual([
      "inflationPerRound",
      "initialSupply",
      "maxActiveSetSize",
      "roundLength",
      "unlockPeriod",
    ]);
    const race = checkDeployParams({
      ...defaultDeployParams,
      unlockPeriod: 1,
      ticketValidityRounds: 2,
    });
    expect(race.map((p) => p.path)).toEqual(["unlockPeriod"]);
    // Equal is refused too: a ticket would still be valid in the withdraw round.
    const equal = checkDeployParams({
      ...defaultDeployParams,
      unlockPeriod: 2,
      ticketValidityRounds: 2,
    });
    expect(equal.map((p) => p.path)).toEqual(["unlockPeriod"]);
  });
});
