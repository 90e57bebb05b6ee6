export interface FailureGuardOptions {
  /** Failures older than this are forgotten. */
  windowMs: number;
  /** After this many failures within the window, answers are slowed down … */
  slowAfter: number;
  /** … by this much per failure beyond `slowAfter`, up to `maxDelayMs`. */
  delayPerFailureMs: number;
  maxDelayMs: number;
  /** After this many failures the address is refused outright for `blockMs`. */
  blockAfter: number;
  blockMs: number;
  /** Addresses remembered at most; the least recently failing are forgotten first. */
  maxAddresses: number;
  now: () => number;
}

export type GuardVerdict = { blocked: true; retryAfterMs: number } | { blocked: false; delayMs: number };

interface Entry {
  failures: number[];
  blockedUntil: number;
}

/**
 * Failed attempts per client address (wrong stream keys, wrong API tokens): a few are free, then
 * each answer comes later, then the address is refused for a while. Successes do not reset the
 * count, so one valid key cannot launder a guessing run.
 */
export class FailureGuard {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: FailureGuardOptions) {}

  verdict(address: string): GuardVerdict {
    const entry = this.current(address);
    if (!entry) return { blocked: false, delayMs: 0 };
    const now = this.options.now();
    if (entry.blockedUntil > now) return { blocked: true, retryAfterMs: entry.blockedUntil - now };
    const excess = entry.failures.length - this.options.slowAfter;
    return { blocked: false, delayMs: excess > 0 ? Math.min(this.options.maxDelayMs, excess * this.options.delayPerFailureMs) : 0 };
  }

  /** Returns true when this failure blocks the address. */
  recordFailure(address: string): boolean {
    const now = this.options.now();
    const entry = this.current(address) ?? { failures: [], blockedUntil: 0 };
    entry.failures.push(now);
    // Map order is insertion order: re-inserting keeps the most recent failers last.
    this.entries.delete(address);
    this.entries.set(address, entry);
    if (this.entries.size > this.options.maxAddresses) this.entries.delete(this.entries.keys().next().value!);
    if (entry.failures.length >= this.options.blockAfter && entry.blockedUntil <= now) {
      entry.blockedUntil = now + this.options.blockMs;
      entry.failures = [];
      return true;
    }
    return false;
  }

  private current(address: string): Entry | undefined {
    const entry = this.entries.get(address);
    if (!entry) return undefined;
    const horizon = this.options.now() - this.options.windowMs;
    entry.failures = entry.failures.filter((at) => at > horizon);
    if (entry.failures.length === 0 && entry.blockedUntil <= this.options.now()) {
      this.entries.delete(address);
      return undefined;
    }
    return entry;
  }
}
