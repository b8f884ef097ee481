import { fundDepositAndReserve } from "../chain/funding.ts";
import type { SigningSession } from "../chain/session.ts";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log/index.ts";

/** What the keeper reads and does on chain; the chain session in production, fakes in tests. */
export interface DepositChain {
  senderInfo(address: string): Promise<{ deposit: bigint; reserve: bigint; unlocking: boolean }>;
  tokenBalance(address: string): Promise<bigint>;
  fund(amounts: { deposit: bigint; reserve: bigint }): Promise<void>;
}

export function depositChain(chain: SigningSession, log: Logger): DepositChain {
  return {
    senderInfo: async (a) => {
      const info = await chain.reader.ticketBroker.getSenderInfo(a);
      return { deposit: info.deposit, reserve: info.reserve, unlocking: info.withdrawRound !== 0n };
    },
    tokenBalance: (a) => chain.reader.token.balanceOf(a),
    fund: async (amounts) => {
      await fundDepositAndReserve(chain, amounts);
      log.info(
        { deposit: amounts.deposit.toString(), reserve: amounts.reserve.toString() },
        "deposit and reserve funded",
      );
    },
  };
}

export interface DepositKeeperOptions {
  address: string;
  /** Token wei the keeper may add over the daemon's life (--auto-deposit); 0 never adds. */
  maxAutoDeposit: bigint;
  /** Expected spend of one stream for one minute at the price cap, token wei. */
  perStreamPerMinute: bigint;
  /** Minutes of streaming the deposit must cover for every stream (plus a new one). */
  coverMinutes: number;
  /** Re-read the chain this often. */
  checkIntervalMs: number;
}

export type StartDecision = { ok: true } | { ok: false; reason: string };

export interface FundingState {
  deposit: string;
  reserve: string;
  unlocking: boolean;
  tokenBalance: string;
  autoDeposited: string;
  maxAutoDeposit: string;
  /** Deposit wanted for the streams live now, token wei. */
  needed: string;
  lastError: string | null;
}

/**
 * Keeps the broadcaster's TicketBroker deposit and reserve funded while it streams: every
 * check compares the deposit with what the live streams need for the next minutes (at the
 * price cap) and, when it falls below, tops the deposit up to twice that (and the reserve to
 * half of it) from the daemon's token balance, within the --auto-deposit cap. It also answers,
 * without waiting on the chain, whether one more stream can be paid for: a stream is never
 * started that the deposit (plus what may still be added) cannot cover.
 */
export class DepositKeeper {
  private state = { deposit: 0n, reserve: 0n, unlocking: false, balance: 0n };
  private autoDeposited = 0n;
  private lastError: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  constructor(
    private readonly chain: DepositChain,
    private readonly options: DepositKeeperOptions,
    private readonly streams: () => number,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.options.checkIntervalMs);
    this.timer.unref();
  }

  stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    return this.checking ?? Promise.resolve();
  }

  private needFor(streams: number): bigint {
    const minutes = BigInt(Math.ceil(this.options.coverMinutes * 1000));
    return (this.options.perStreamPerMinute * BigInt(streams) * minutes) / 1000n;
  }

  private headroom(): bigint {
    const left = this.options.maxAutoDeposit - this.autoDeposited;
    const cap = left > 0n ? left : 0n;
    return cap < this.state.balance ? cap : this.state.balance;
  }

  /** Whether one more stream can be paid for now (from the last chain read). */
  canStartStream(): StartDecision {
    if (this.state.unlocking) {
      return {
        ok: false,
        reason: "the deposit is unlocking: run `segmint deposit cancel-unlock` to stream again",
      };
    }
    const need = this.needFor(this.streams() + 1);
    const available = this.state.deposit + this.headroom();
    if (available < need) {
      return {
        ok: false,
        reason:
          `the deposit (${this.state.deposit} wei${this.options.maxAutoDeposit > 0n ? ` plus ${this.headroom()} wei auto-deposit room` : ""}) ` +
          `is below the ${need} wei that ${this.streams() + 1} stream(s) need for ${this.options.coverMinutes} minutes: ` +
          "fund it with `segmint deposit fund` or raise --auto-deposit",
      };
    }
    if (this.state.deposit < need) void this.check(need);
    return { ok: true };
  }

  /** Reads the chain and tops up when needed; a failure is kept for /status and logged. */
  check(atLeast = 0n): Promise<void> {
    this.checking ??= this.doCheck(atLeast).finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  status(): FundingState {
    return {
      deposit: this.state.deposit.toString(),
      reserve: this.state.reserve.toString(),
      unlocking: this.state.unlocking,
      tokenBalance: this.state.balance.toString(),
      autoDeposited: this.autoDeposited.toString(),
      maxAutoDeposit: this.options.maxAutoDeposit.toString(),
      needed: this.needFor(this.streams()).toString(),
      lastError: this.lastError,
    };
  }

  private async doCheck(atLeast: bigint): Promise<void> {
    try {
      await this.read();
      const need = this.needFor(Math.max(1, this.streams()));
      const want = need > atLeast ? need : atLeast;
      if (this.state.unlocking || this.state.deposit >= want) return;
      const room = this.headroom();
      if (room === 0n) {
        this.log.warn(
          { deposit: this.state.deposit.toString(), needed: want.toString() },
          "the deposit is below what the streams need and auto-deposit has no room left",
        );
        return;
      }
      let deposit = want * 2n - this.state.deposit;
      let reserve = want / 2n > this.state.reserve ? want / 2n - this.state.reserve : 0n;
      if (deposit > room) {
        deposit = room;
        reserve = 0n;
      } else if (deposit + reserve > room) {
        reserve = room - deposit;
      }
      await this.chain.fund({ deposit, reserve });
      this.autoDeposited += deposit + reserve;
      this.log.info(
        {
          deposit: deposit.toString(),
          reserve: reserve.toString(),
          autoDeposited: this.autoDeposited.toString(),
        },
        "deposit topped up for the live streams",
      );
      await this.read();
      this.lastError = null;
    } catch (error) {
      this.lastError = errorMessage(error);
      this.log.warn({ err: this.lastError }, "checking or topping up the deposit failed");
    }
  }

  private async read(): Promise<void> {
    const [info, balance] = await Promise.all([
      this.chain.senderInfo(this.options.address),
      this.chain.tokenBalance(this.options.address),
    ]);
    this.state = { ...info, balance };
  }
}
