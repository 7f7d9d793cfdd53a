// What the nlserver commands tell the agent, as data: the contract between the reader (view.ts)
// and the checks that judge it. Types only, so the core contracts can name them.

export interface ParsedOutput<T> {
  entries: T[];
  /** Campaign's banner line (`Application server for Adobe Campaign ...`), when printed. */
  banner?: string;
  /** `No tasks` / `No task` / `no task` was printed. */
  noTasks: boolean;
  /** Lines that match no documented form; kept for the operator (at most 10), never fatal. */
  unexpected: string[];
}

/** One running task as `nlserver pdump` lists it: `mta@prod (7831) - 15.6 MB`, or bare `watchdog (27369) - 3.1 MB`. */
export interface PdumpTask {
  module: string;
  /** Absent for tasks printed without `@instance` (watchdog). */
  instance?: string;
  pid: number;
  memoryBytes: number;
}

/** A module whose autoStart is true but that is not running, as `nlserver monitor -missing` lists it. */
export interface MissingTask {
  module: string;
  /** Absent for a bare module name (no `@instance`). */
  instance?: string;
}

/** What one nlserver command told us this cycle. */
export interface CommandView<T> {
  /** It ran to the end and printed something of the documented shape. */
  ok: boolean;
  /** Why it is not ok, or a note about an odd but usable run (exit code). */
  error?: string;
  parsed: ParsedOutput<T>;
  durationMs: number;
}

/** Campaign's own view of its processes, read at most once per campaign.nlserverSchedule interval and shared by every probe. */
export interface NlserverView {
  /** false: integration switched off or no nlserver here; probes judge from the process table alone. */
  enabled: boolean;
  /** Why it is not enabled. */
  reason?: string;
  pdump: CommandView<PdumpTask>;
  missing: CommandView<MissingTask>;
  /**
   * ms since the epoch when the two commands were started. The view is read on its own schedule
   * (campaign.nlserverSchedule) and shared by the cycles in between: checks weigh what it says
   * against the process table of their own cycle.
   */
  readAt?: number;
}
