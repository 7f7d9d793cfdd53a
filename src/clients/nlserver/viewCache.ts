import type { NlserverView } from './types.js';

/**
 * Campaign's view read at most once per interval (campaign.nlserverSchedule, a minute by default) and
 * shared by every cycle in between. Each read forks the agent twice (`pdump`, `monitor -missing`): at
 * the module schedules' 30 s, and with confirmation runs, reading it per cycle was most of what the
 * agent cost its server. Presence is still judged from /proc every cycle; the view adds Campaign's own
 * word, stamped with when it was read (`readAt`).
 *
 * The read happens in the first cycle that asks once the interval has passed, not on a timer of its
 * own: an idle agent wakes for nothing, and a view slot landing on a module cycle's second is read by
 * that cycle, never a moment after it.
 */
export class NlserverViewCache {
  private last?: NlserverView;
  private pending?: Promise<NlserverView>;
  /** Cycles fire a few ms either side of their second: a view read at 12:00:00.004 is due again at 12:00:59.998. */
  private readonly slackMs: number;

  constructor(
    private readonly read: () => Promise<NlserverView>,
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {
    this.slackMs = Math.min(5_000, intervalMs / 10);
  }

  /** The current view; reads it when none was read yet or the interval has passed. Concurrent callers share one read. */
  get(): Promise<NlserverView> {
    if (this.pending) return this.pending;
    if (this.last !== undefined && !this.due()) return Promise.resolve(this.last);
    const readAt = this.now();
    this.pending = this.read()
      .then((view) => (this.last = { ...view, readAt }))
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  private due(): boolean {
    const age = this.now() - (this.last?.readAt ?? -Infinity);
    // Negative: the clock was set back; read again rather than trust a view from the future.
    return age < 0 || age >= this.intervalMs - this.slackMs;
  }
}
