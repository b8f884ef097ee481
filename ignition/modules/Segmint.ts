import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { defaultDeployParams } from "../../node/src/chain/deploy.ts";

/**
 * The Segmint deployment for Hardhat Ignition users; the same contracts, wiring and parameters
 * as `segmint deploy` (node/src/chain/deploy.ts). Parameters (module "Segmint"):
 * roundLength, unbondingPeriod, unlockPeriod, maxActiveSetSize, minSelfStake (wei), inflationPerRound (wei),
 * ticketValidityRounds, initialSupply (wei). Account 0 deploys and owns everything.
 *
 *   npx hardhat ignition deploy ignition/modules/Segmint.ts --network localhost \
 *     --parameters '{"Segmint":{"roundLength":50}}'
 */
export default buildModule("Segmint", (m) => {
  const deployer = m.getAccount(0);
  const roundLength = m.getParameter("roundLength", defaultDeployParams.roundLength);
  const unbondingPeriod = m.getParameter("unbondingPeriod", defaultDeployParams.unbondingPeriod);
  const unlockPeriod = m.getParameter("unlockPeriod", defaultDeployParams.unlockPeriod);
  const maxActiveSetSize = m.getParameter("maxActiveSetSize", defaultDeployParams.maxActiveSetSize);
  const minSelfStake = m.getParameter("minSelfStake", defaultDeployParams.minSelfStake);
  const inflationPerRound = m.getParameter(
    "inflationPerRound",
    defaultDeployParams.inflationPerRound,
  );
  const ticketValidityRounds = m.getParameter(
    "ticketValidityRounds",
    defaultDeployParams.ticketValidityRounds,
  );
  const initialSupply = m.getParameter("initialSupply", defaultDeployParams.initialSupply);

  const token = m.contract("Token", [deployer, initialSupply]);
  const roundsManager = m.contract("RoundsManager", [deployer, roundLength]);
  const bondingManager = m.contract("BondingManager", [
    deployer,
    token,
    roundsManager,
    unbondingPeriod,
    maxActiveSetSize,
    minSelfStake,
  ]);
  const minter = m.contract("Minter", [deployer, token, bondingManager, inflationPerRound]);
  const ticketBroker = m.contract("TicketBroker", [
    deployer,
    token,
    roundsManager,
    bondingManager,
    unlockPeriod,
    ticketValidityRounds,
  ]);
  const orchestratorRegistry = m.contract("OrchestratorRegistry", [bondingManager]);

  m.call(token, "setMinter", [minter]);
  m.call(bondingManager, "setWiring", [minter, ticketBroker]);

  return { token, roundsManager, bondingManager, minter, ticketBroker, orchestratorRegistry };
});
