/** The timer functions confirmations use; injectable, so tests drive them without waiting. */
export interface Timers {
  /** `run` may return the promise of the work it started: a test's timers await it, Node's ignore it. */
  setTimeout(run: () => unknown, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's timers, unref'd: a pending confirmation never keeps the process alive. */
export const nodeTimers: Timers = {
  setTimeout: (run, ms) => setTimeout(run, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Pending confirmation runs, at most one per row. When a run sees a row cross between up and down
 * and flap damping holds its verdict, the engine asks for that row to run again `confirmAfter` later
 * instead of a schedule interval later; the confirmation's result counts towards failuresBeforeCritical
 * (successesBeforeOk) like any run. Nothing is pending in steady state. After stop() nothing is
 * scheduled again: the daemon's engine stops once.
 */
export class Confirmations {
  private readonly pending = new Map<string, unknown>();
  private stopped = false;

  constructor(
    private readonly timers: Timers,
    /** Never rejects (the engine logs its own failures). */
    private readonly run: (key: string) => Promise<void>,
  ) {}

  /** Runs `key` in `delayMs`, replacing a confirmation already pending for it. */
  schedule(key: string, delayMs: number): void {
    if (this.stopped) return;
    this.cancel(key);
    this.pending.set(
      key,
      this.timers.setTimeout(() => {
        this.pending.delete(key);
        return this.stopped ? undefined : this.run(key);
      }, delayMs),
    );
  }

  /** Drops the confirmation pending for `key`; true when there was one. */
  cancel(key: string): boolean {
    const handle = this.pending.get(key);
    if (handle === undefined) return false;
    this.timers.clearTimeout(handle);
    this.pending.delete(key);
    return true;
  }

  /** Drops every pending confirmation; how many there were. */
  cancelAll(): number {
    const count = this.pending.size;
    for (const handle of this.pending.values()) this.timers.clearTimeout(handle);
    this.pending.clear();
    return count;
  }

  /** Cancels everything pending and schedules nothing more. */
  stop(): number {
    this.stopped = true;
    return this.cancelAll();
  }

  /** The rows with a confirmation pending. */
  keys(): string[] {
    return [...this.pending.keys()];
  }
}
