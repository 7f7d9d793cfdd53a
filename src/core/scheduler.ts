import cron, { type ScheduledTask } from 'node-cron';
import { scheduleIntervalMs } from './interval.js';
import type { Logger } from './contracts.js';

/** What the scheduler drives: the agent's plan and its cycles (an interface, so core never imports the agent). */
export interface CycleSource {
  now(): number;
  ensurePlanned(): Promise<void>;
  rows(): ReadonlyArray<{ key: string; schedule: string; enabled: boolean; timeoutMs: number }>;
  runCycle(keys: ReadonlySet<string>): Promise<void>;
  /** Ends the runs the source starts on its own between cycles (confirmation runs, core/confirm.ts). */
  stop(): void;
}

interface Group {
  schedule: string;
  task: ScheduledTask;
  intervalMs: number;
  lastCompleted?: number;
  running?: Promise<void>;
}

// A cycle may be late by this many intervals before /healthz calls the agent stuck.
const STALE_INTERVALS = 3;
/** The wall clock moving this much more or less than the monotonic one is a clock step, not drift. */
const CLOCK_STEP_MS = 5_000;
const CLOCK_WATCH_MS = 10_000;

/**
 * One node-cron task per distinct schedule; each firing runs every row on that schedule as one
 * cycle. A firing while the previous cycle still runs is skipped (noOverlap), never queued.
 */
export class Scheduler {
  private groups = new Map<string, Group>();
  private startedAt = 0;
  private running = false;
  /** Until the first cycle of every schedule is done, the agent has nothing true to say. */
  private started = false;
  private clockWatch?: NodeJS.Timeout;

  constructor(private readonly agent: CycleSource, private readonly log: Logger) {}

  async start(): Promise<void> {
    this.running = true;
    this.startedAt = this.agent.now();
    this.watchClock();
    await this.agent.ensurePlanned();
    this.syncGroups();
    // Operators want an answer at once, not at the next tick.
    await Promise.all([...this.groups.values()].map((group) => this.fire(group)));
    this.started = true;
  }

  /** Stops scheduling, then waits (bounded) for cycles already running. */
  async stop(waitMs = 4000): Promise<void> {
    this.running = false;
    this.started = false;
    clearInterval(this.clockWatch);
    this.agent.stop();
    const running: Promise<void>[] = [];
    for (const group of this.groups.values()) {
      await group.task.destroy();
      if (group.running) running.push(group.running);
    }
    this.groups.clear();
    await Promise.race([Promise.allSettled(running), new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
  }

  isRunning(): boolean {
    return this.running;
  }

  /** True while every schedule completed a cycle recently enough; what /healthz reports. */
  fresh(now = this.agent.now()): boolean {
    if (!this.running || !this.started) return false;
    const timeoutMs = Math.max(0, ...this.agent.rows().map((row) => row.timeoutMs));
    for (const group of this.groups.values()) {
      const last = group.lastCompleted ?? this.startedAt;
      if (now - last > STALE_INTERVALS * group.intervalMs + timeoutMs) return false;
    }
    return true;
  }

  /** Re-reads which schedules exist after the plan changed. */
  syncGroups(): void {
    const wanted = new Set(this.agent.rows().filter((row) => row.enabled).map((row) => row.schedule));
    for (const [schedule, group] of this.groups) {
      if (!wanted.has(schedule)) {
        void group.task.destroy();
        this.groups.delete(schedule);
      }
    }
    for (const schedule of wanted) if (!this.groups.has(schedule)) this.groups.set(schedule, this.createGroup(schedule));
  }

  private createGroup(schedule: string): Group {
    const group = { schedule } as Group;
    group.task = cron.schedule(schedule, () => this.fire(group), {
      name: `probes ${schedule}`,
      noOverlap: true,
      logger: cronLogger(this.log),
    });
    group.task.on('execution:overlap', () => {
      this.log.warn({ schedule }, 'previous probe cycle still running: this tick is skipped');
    });
    // Without a listener node-cron warns once per slot it skipped: after the clock jumps forward by
    // 2h on a 1 s schedule, 7200 lines. The jump itself is logged once by watchClock.
    group.task.on('execution:missed', () => {});
    group.intervalMs = scheduleIntervalMs(schedule);
    return group;
  }

  /**
   * node-cron plans its next tick on the wall clock: when the clock is set back, its pending timer
   * waits until the clock has caught up again (two hours for a two-hour step), and nothing runs while
   * /healthz and the rows, stamped on the old clock, look fresh. A monotonic watch re-arms the tasks.
   */
  private watchClock(): void {
    clearInterval(this.clockWatch);
    let wall = Date.now();
    let mono = performance.now();
    this.clockWatch = setInterval(() => {
      const [wallNow, monoNow] = [Date.now(), performance.now()];
      const stepMs = wallNow - wall - (monoNow - mono);
      [wall, mono] = [wallNow, monoNow];
      if (Math.abs(stepMs) < CLOCK_STEP_MS) return;
      this.log.warn({ stepMs: Math.round(stepMs) }, `system clock stepped ${stepMs < 0 ? 'back' : 'forward'}: probe schedules re-armed, cycles run now`);
      for (const group of this.groups.values()) {
        void Promise.resolve(group.task.stop()).then(() => (this.running ? group.task.start() : undefined));
        // Results stamped on the old clock look stale (or from the future): replace them at once.
        void this.fire(group);
      }
    }, CLOCK_WATCH_MS);
    this.clockWatch.unref();
  }

  private fire(group: Group): Promise<void> {
    if (group.running) return group.running;
    const keys = new Set(this.agent.rows().filter((row) => row.schedule === group.schedule).map((row) => row.key));
    group.running = this.agent
      .runCycle(keys)
      .then(() => {
        group.lastCompleted = this.agent.now();
        // Discovery inside the cycle may have added or removed schedules.
        if (this.running) this.syncGroups();
      })
      .catch((error: unknown) => this.log.error({ err: String(error), schedule: group.schedule }, 'probe cycle failed'))
      .finally(() => {
        group.running = undefined;
      });
    return group.running;
  }
}

function cronLogger(log: Logger) {
  const text = (message: string | Error): string => (message instanceof Error ? message.message : message);
  return {
    info: (message: string) => log.debug({ component: 'node-cron' }, message),
    warn: (message: string) => log.warn({ component: 'node-cron' }, message),
    error: (message: string | Error) => log.error({ component: 'node-cron' }, text(message)),
    debug: (message: string | Error) => log.debug({ component: 'node-cron' }, text(message)),
  };
}
