/**
 * `npm run test:mutants [-- --only ID[,ID...]]`
 *
 * Mutation check for the contracts: applies each hand-written mutant below (a plausible one-line
 * bug) on its own to a scratch copy of the repository's contracts and Solidity tests, runs the
 * Solidity tests that should catch it, and reports whether they failed ("killed") or passed
 * ("survived"). The repository itself is never modified. A mutant whose `find` text is not in
 * its file exactly once is reported "stale" (the list needs updating after a code change).
 * Mutants marked `invariants` are also run against the invariant suite alone, which must kill
 * them too. Exits non-zero unless every mutant is killed (and baseline runs pass).
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

interface Mutant {
  id: string;
  file: string;
  /** Text that occurs exactly once in `file`. */
  find: string;
  replace: string;
  /** The bug it plays. */
  bug: string;
  /** Test files to run (paths under test/sol); every Solidity test when absent. */
  tests?: readonly string[];
  /** Whether the invariant suite alone must kill it too. */
  invariants?: boolean;
}

const BROKER = "contracts/payments/TicketBroker.sol";
const ROUNDS = "contracts/rounds/RoundsManager.sol";
const REGISTRY = "contracts/registry/OrchestratorRegistry.sol";
const ACTIVE_SET = "contracts/bonding/ActiveSet.sol";
const BONDING = "contracts/bonding/BondingManager.sol";
const PAYMENT_TESTS = [
  "test/sol/payments/TicketBroker.t.sol",
  "test/sol/payments/TicketBrokerRules.t.sol",
  "test/sol/payments/TicketBrokerAttacks.t.sol",
];
const FEE_LOCK_TESTS = [
  "test/sol/bonding/FeeLock.t.sol",
  "test/sol/payments/TicketBrokerAttacks.t.sol",
];
const INVARIANT_TESTS = [
  "test/sol/invariant/Protocol.t.sol",
  "test/sol/invariant/ProtocolHandler.sol",
  "test/sol/invariant/PaymentsHandler.sol",
  "test/sol/invariant/CheckedHandler.sol",
];

export const MUTANTS: readonly Mutant[] = [
  {
    id: "expiry-off-by-one",
    file: BROKER,
    find: "if (round > creationRound + _ticketValidityRounds) return (RedemptionStatus.TicketExpired, ticketHash);",
    replace:
      "if (round >= creationRound + _ticketValidityRounds) return (RedemptionStatus.TicketExpired, ticketHash);",
    bug: "a ticket expires one round early",
    tests: PAYMENT_TESTS,
  },
  {
    id: "missing-used-mark",
    file: BROKER,
    find: "        _usedTickets[ticketHash] = true;\n",
    replace: "",
    bug: "a redeemed ticket is not marked used (replays pay again)",
    tests: PAYMENT_TESTS,
    invariants: true,
  },
  {
    id: "allocation-rounds-up",
    file: BROKER,
    find: "uint256 allocation = (reserve + claimedInRound) / activeCount;",
    replace: "uint256 allocation = (reserve + claimedInRound + activeCount - 1) / activeCount;",
    bug: "the reserve allocation is rounded up instead of down",
    tests: PAYMENT_TESTS,
    invariants: true,
  },
  {
    id: "allocation-forgets-claims",
    file: BROKER,
    find: "uint256 allocation = (reserve + claimedInRound) / activeCount;",
    replace: "uint256 allocation = reserve / activeCount;",
    bug: "early claimers shrink later claimers' allocations",
    tests: PAYMENT_TESTS,
  },
  {
    id: "claim-record-overwritten",
    file: BROKER,
    find: "ReserveClaim({round: uint64(round), claimed: uint128(claimed + claimable)})",
    replace: "ReserveClaim({round: uint64(round), claimed: uint128(claimable)})",
    bug: "a recipient's earlier claims this round are forgotten (it can exceed its allocation)",
    tests: PAYMENT_TESTS,
    invariants: true,
  },
  {
    id: "round-total-overwritten",
    file: BROKER,
    find: "claimedInRound: (claimedInRound + claimable).toUint120(),",
    replace: "claimedInRound: claimable.toUint120(),",
    bug: "the sender's reserve claimed this round forgets earlier claims",
    tests: PAYMENT_TESTS,
    invariants: true,
  },
  {
    id: "batch-reverts-whole",
    file: BROKER,
    find: "if (status > RedemptionStatus.Unpaid) emit TicketRedemptionFailed(ticketHash, i, status);",
    replace:
      "if (status > RedemptionStatus.Unpaid) _revertFor(status, tickets[i], ticketHash, recipientRands[i]);",
    bug: "one bad ticket reverts the whole batch",
    tests: PAYMENT_TESTS,
    invariants: true,
  },
  {
    id: "seat-checked-now",
    file: BROKER,
    find: "if (!_bondingManager.isActiveInRound(recipient, ticket.creationRound))",
    replace: "if (!_bondingManager.isActiveInRound(recipient, round))",
    bug: "the recipient's seat is checked in the redemption round, not the creation round",
    tests: PAYMENT_TESTS,
  },
  {
    id: "future-creation-round",
    file: BROKER,
    find: "if (creationRound > round || (givenHash != bytes32(0) && givenHash != blockHash)) {",
    replace: "if (givenHash != bytes32(0) && givenHash != blockHash) {",
    bug: "a ticket may name a future creation round (and outlive its validity)",
    tests: PAYMENT_TESTS,
  },
  {
    id: "early-withdraw",
    file: BROKER,
    find: "if (round < withdrawRound) revert TicketBrokerUnlockPeriodNotOver(",
    replace: "if (round + 1 < withdrawRound) revert TicketBrokerUnlockPeriodNotOver(",
    bug: "a sender can withdraw one round before its unlock period ends",
    tests: PAYMENT_TESTS,
    invariants: true,
  },
  {
    id: "validity-equal-unlock",
    file: BROKER,
    find: "if (rounds >= period) revert TicketBrokerValidityNotBelowUnlockPeriod(rounds, period);",
    replace:
      "if (rounds > period) revert TicketBrokerValidityNotBelowUnlockPeriod(rounds, period);",
    bug: "the ticket validity may equal the unlock period",
    tests: PAYMENT_TESTS,
    invariants: true,
  },
  {
    id: "reserve-asked-full-face",
    file: BROKER,
    find: "fromReserve = _claimReserve(sender, recipient, round, s.reserve, faceValue - fromDeposit);",
    replace: "fromReserve = _claimReserve(sender, recipient, round, s.reserve, faceValue);",
    bug: "the reserve is asked for the whole face value after the deposit paid part (overpays)",
    tests: PAYMENT_TESTS,
    invariants: true,
  },
  {
    id: "round-boundary",
    file: ROUNDS,
    find: "if (block.number < c.anchorBlock) return c.anchorRound - 1;",
    replace: "if (block.number <= c.anchorBlock) return c.anchorRound - 1;",
    bug: "a round-length change moves the first block of the next round",
    tests: ["test/sol/rounds/RoundsManager.t.sol"],
  },
  {
    id: "registry-open-to-all",
    file: REGISTRY,
    find: "if (!active) revert OrchestratorRegistryNotActive(msg.sender);",
    replace: "if (false) revert OrchestratorRegistryNotActive(msg.sender);",
    bug: "anyone can publish in the registry (free spam)",
    tests: ["test/sol/registry/OrchestratorRegistry.t.sol"],
    invariants: true,
  },
  {
    id: "active-set-evicts-largest",
    file: ACTIVE_SET,
    find: "if (memberStake < minStake) {",
    replace: "if (memberStake > minStake) {",
    bug: "a full active set evicts its largest member instead of its smallest",
  },
  {
    id: "fees-not-locked",
    file: BONDING,
    find: "uint256 unlockRound = round + _feeLockRounds;",
    replace: "uint256 unlockRound = round;",
    bug: "settled fees are withdrawable at once (a sender pays its own orchestrator and leaves)",
    tests: FEE_LOCK_TESTS,
    invariants: true,
  },
  {
    id: "fee-lock-one-round-short",
    file: BONDING,
    find: "uint256 unlockRound = round + _feeLockRounds;",
    replace: "uint256 unlockRound = round + _feeLockRounds - 1;",
    bug: "fees unlock one round before the unlock period is over",
    tests: FEE_LOCK_TESTS,
  },
  {
    id: "fee-lock-extends-old-fees",
    file: BONDING,
    find: "if (lock.amount == 0 || lock.unlockRound == unlockRound) {",
    replace: "if (lock.amount == 0 || lock.unlockRound <= unlockRound) {",
    bug: "fresh fees join the older bucket and push its unlock round out (old fees stay locked)",
    tests: FEE_LOCK_TESTS,
  },
];

const { values } = parseArgs({ options: { only: { type: "string" } } });
const root = path.resolve(import.meta.dirname, "..");
const only = values.only?.split(",");
const selected = only === undefined ? MUTANTS : MUTANTS.filter((m) => only.includes(m.id));
if (selected.length === 0) throw new Error(`no mutant with id ${values.only}`);

// A scratch copy: the repository is never touched, whatever happens to this process.
const scratch = mkdtempSync(path.join(tmpdir(), "segmint-mutants-"));
for (const entry of [
  "contracts",
  "test/sol",
  "hardhat.config.ts",
  "package.json",
  "tsconfig.json",
]) {
  cpSync(path.join(root, entry), path.join(scratch, entry), { recursive: true });
}
symlinkSync(path.join(root, "node_modules"), path.join(scratch, "node_modules"));
// Interrupted (Ctrl-C reaches the test run too, which then ends): leave no scratch copy behind.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    rmSync(scratch, { recursive: true, force: true });
    process.exit(130);
  });
}

/** Runs the given Solidity test files (all when empty) in the scratch copy; true when they pass. */
function testsPass(files: readonly string[]): boolean {
  const hardhat = path.join(scratch, "node_modules", ".bin", "hardhat");
  const result = spawnSync(hardhat, ["test", "solidity", "--no-typechain", ...files], {
    cwd: scratch,
    encoding: "utf8",
    timeout: 20 * 60_000,
  });
  return result.status === 0;
}

type Outcome = "killed" | "survived" | "stale";
const rows: { id: string; bug: string; outcome: Outcome; targeted: string; invariants: string }[] =
  [];
try {
  process.stdout.write("baseline (unmutated) ... ");
  if (!testsPass([])) throw new Error("the unmutated Solidity tests fail in the scratch copy");
  process.stdout.write("passes\n");
  for (const m of selected) {
    const file = path.join(scratch, m.file);
    const original = readFileSync(file, "utf8");
    const count = original.split(m.find).length - 1;
    if (count !== 1) {
      rows.push({ id: m.id, bug: m.bug, outcome: "stale", targeted: "-", invariants: "-" });
      process.stdout.write(`${m.id}: stale (${count} matches in ${m.file})\n`);
      continue;
    }
    writeFileSync(file, original.replace(m.find, m.replace));
    try {
      const targeted = testsPass(m.tests ?? []) ? "survived" : "killed";
      let invariants = "-";
      if (m.invariants) invariants = testsPass(INVARIANT_TESTS) ? "survived" : "killed";
      // Killed when any Solidity test catches it: its own tests or the invariant suite.
      const outcome: Outcome =
        targeted === "killed" || invariants === "killed" ? "killed" : "survived";
      rows.push({ id: m.id, bug: m.bug, outcome, targeted, invariants });
      process.stdout.write(
        `${m.id}: ${outcome} (its tests: ${targeted}; invariants alone: ${invariants})\n`,
      );
    } finally {
      writeFileSync(file, original);
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const killed = rows.filter((r) => r.outcome === "killed").length;
const invariantRows = rows.filter((r) => r.invariants !== "-");
const invariantKilled = invariantRows.filter((r) => r.invariants === "killed").length;
process.stdout.write(
  `\nkilled ${killed}/${rows.length} mutants (${Math.round((100 * killed) / rows.length)}%); ` +
    `invariant suite alone: ${invariantKilled}/${invariantRows.length}\n`,
);
for (const r of rows) {
  process.stdout.write(
    `  ${r.outcome.padEnd(8)} own:${r.targeted.padEnd(8)} inv:${r.invariants.padEnd(8)} ${r.id}: ${r.bug}\n`,
  );
}
const allKilled = rows.every((r) => r.outcome === "killed" && r.invariants !== "survived");
process.stdout.write("(own: the mutant's own test files; inv: the invariant suite alone)\n");
process.exitCode = allKilled ? 0 : 1;
