import { appendFileSync, closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { open as openAsync } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../util/logger.js';
import { silentLogger } from '../util/logger.js';
import { scrubSecrets } from '../util/scrub.js';
import { eventRowKey, type HistoryEvent } from './event.js';
import { formatEventLine } from './eventFile.js';
import { readEventFile, type ReadResult } from './readEvents.js';
import type { HistorySource, HistoryStatus } from './source.js';
import { selectEvents, type EventQuery } from './query.js';

export const EVENTS_FILE = 'events.jsonl';
export const HEARTBEAT_FILE = 'heartbeat';
export const MAX_EVENTS = 50_000;
export const MAX_AGE_MS = 30 * 86_400_000;
/** The file is compacted when it holds this much more than the bounds (10 %): not at every event. */
export const COMPACT_MARGIN = 0.1;
export const HEARTBEAT_MS = 60_000;
/** How far back changesSince answers from the per-row change times (changes24h), not from the log. */
const CHANGE_WINDOW_MS = 86_400_000;

export interface EventLogOptions {
  /** The state directory; without it the log lives in memory only and writes nothing. */
  dir?: string;
  now?: () => number;
  log?: Logger;
  maxEvents?: number;
  maxAgeMs?: number;
}

/** An event to record: its time defaults to now; its detail is scrubbed of secrets here, once for every caller. */
export type NewEvent = Omit<HistoryEvent, 'time'> & { time?: number };

/**
 * The agent's event log: every event in memory (bounded) and, with a state directory, appended to
 * `events.jsonl` synchronously before it is visible to readers, so that an event that was served is on
 * disk and a SIGKILL loses at most the one being written. The file is compacted in the background
 * (temp file + rename) when it grows 10 % past its bounds. An unwritable directory (read-only, missing,
 * full) keeps events in memory; the problem is logged once, and so is the recovery, after which the
 * file is rewritten from memory. A heartbeat file's mtime, touched once a minute, tells the next start
 * when this run was last alive if it ends without a `stopped` event.
 */
export class EventLog implements HistorySource {
  readonly file: string | undefined;
  private readonly heartbeatFile: string | undefined;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly maxEvents: number;
  private readonly maxAgeMs: number;
  private events: HistoryEvent[] = [];
  private fd: number | undefined;
  /** Bytes of the file that hold whole events: a failed append is cut back to this. */
  private goodSize = 0;
  /** Events in the file, and the time of its oldest: when to compact. */
  private fileEvents = 0;
  private fileOldest = Infinity;
  private problem: { code: string; text: string } | undefined;
  private setAside: string | undefined;
  private compacting: Promise<void> | undefined;
  private compactAgain = false;
  /** A rewrite that failed while appends work: its error code, and when to try again (not at every event). */
  private compactProblem: string | undefined;
  private compactRetryAt = -Infinity;
  /** Memory holds events the file lacks (written while it was unwritable): a rewrite is due. */
  private behind = false;
  /** Successful appends: a rewrite that fails after one succeeded is out of date, not a new problem. */
  private appended = 0;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private previousAlive: number | undefined;
  /** Between open() and start(): what the file held, and the events recorded meanwhile (not yet written). */
  private found: ReadResult | undefined;
  private unwritten: HistoryEvent[] = [];
  private started = false;
  private previousStopped = false;
  /** Per row (eventRowKey): the times of its state changes in the last 24 hours (changes24h). */
  private recentChanges = new Map<string, number[]>();
  /** Bumped by every recorded event and every change of status: renderers cache on it. */
  version = 0;
  /** Told when the status changes (writable or not). */
  onStatus?: (status: HistoryStatus) => void;

  private constructor(options: EventLogOptions) {
    this.file = options.dir === undefined ? undefined : path.join(options.dir, EVENTS_FILE);
    this.heartbeatFile = options.dir === undefined ? undefined : path.join(options.dir, HEARTBEAT_FILE);
    this.now = options.now ?? Date.now;
    this.log = options.log ?? silentLogger;
    this.maxEvents = options.maxEvents ?? MAX_EVENTS;
    this.maxAgeMs = options.maxAgeMs ?? MAX_AGE_MS;
  }

  /** A log in memory only: nothing is read or written (the one-shot `check`, `config check`). */
  static inMemory(options: Omit<EventLogOptions, 'dir'> = {}): EventLog {
    return new EventLog(options);
  }

  /**
   * The log of a state directory, its events.jsonl read back (a torn last line and the lines of a
   * corrupt or foreign file that are not events left out). Nothing on disk changes before start().
   * Never throws: what cannot be read or written is the log's status.
   */
  static open(options: EventLogOptions & { dir: string }): EventLog {
    const log = new EventLog(options);
    log.load();
    return log;
  }

  all(): readonly HistoryEvent[] {
    return this.events;
  }

  query(query: EventQuery): HistoryEvent[] {
    return selectEvents(this.events, query);
  }

  /**
   * Per row (eventRowKey): its state changes (first verdicts excluded) at or after `since`. From
   * the last 24 hours' change times kept per row (what /status asks at every rendering: no scan of
   * 50,000 events); further back, from the whole log.
   */
  changesSince(since: number): Map<string, number> {
    const counts = new Map<string, number>();
    if (since >= this.now() - CHANGE_WINDOW_MS) {
      for (const [key, times] of this.recentChanges) {
        // Times in record order, which is time order unless the clock was set back: counted from the end.
        let count = 0;
        for (let index = times.length - 1; index >= 0 && times[index]! >= since; index--) count += 1;
        if (count > 0) counts.set(key, count);
      }
      return counts;
    }
    for (const event of this.events) {
      if (event.time < since || !isChange(event)) continue;
      const key = changeKey(event);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }

  /** Keeps the change times of the last 24 hours per row; older ones go when a row changes again or at the heartbeat. */
  private noteChange(event: HistoryEvent): void {
    if (!isChange(event)) return;
    const key = changeKey(event);
    let times = this.recentChanges.get(key);
    if (!times) this.recentChanges.set(key, (times = []));
    times.push(event.time);
  }

  private pruneChanges(): void {
    const cutoff = this.now() - CHANGE_WINDOW_MS;
    for (const [key, times] of this.recentChanges) {
      let drop = 0;
      while (drop < times.length && times[drop]! < cutoff) drop += 1;
      if (drop === times.length) this.recentChanges.delete(key);
      else if (drop > 0) times.splice(0, drop);
    }
  }

  /**
   * When the previous run of the agent was last known alive: its `stopped` event, else the later of its
   * heartbeat and its last event. undefined on a first start (no file, no heartbeat).
   */
  previousRunEnd(): { at: number; stopped: boolean } | undefined {
    return this.previousAlive === undefined ? undefined : { at: this.previousAlive, stopped: this.previousStopped };
  }

  status(): HistoryStatus {
    return {
      file: this.file ?? null,
      writable: this.file !== undefined && this.problem === undefined,
      problem: this.problem?.text ?? null,
      setAside: this.setAside ?? null,
    };
  }

  /** Appends the event to the file (when it can), then makes it visible. */
  record(input: NewEvent): HistoryEvent {
    const event: HistoryEvent = { ...input, time: input.time ?? this.now(), detail: scrubSecrets(input.detail) };
    if (this.file !== undefined && this.started) this.append(formatEventLine(event), event.time);
    else if (this.file !== undefined) this.unwritten.push(event);
    this.events.push(event);
    this.noteChange(event);
    this.version += 1;
    // Memory is bounded like the file; trimmed in batches, not one shift per event.
    if (this.events.length > this.maxEvents * (1 + COMPACT_MARGIN) && this.compacting === undefined) this.trimMemory();
    if (this.overBounds()) void this.compact();
    return event;
  }

  /**
   * Takes the state directory: creates it, sets a corrupt file aside or cuts a torn line off, writes the
   * events recorded since open() (in that order, before anything serves them: call it before the first
   * request is answered), and starts the heartbeat (now and once a minute; the timer never keeps the
   * process alive). Until then nothing is written: a second agent that fails to start (its port taken)
   * leaves the running one's file alone.
   */
  start(): void {
    if (this.file === undefined || this.started) return;
    this.started = true;
    const file = this.file;
    try {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o750 });
    } catch (error) {
      this.failed(error);
    }
    if (this.found) this.repair(file, this.found);
    const trimmed = this.found !== undefined && this.found.events.length > this.events.length - this.unwritten.length;
    this.found = undefined;
    for (const event of this.unwritten) this.append(formatEventLine(event), event.time);
    this.unwritten = [];
    this.heartbeat();
    if (this.problem === undefined && (this.setAside !== undefined || trimmed)) void this.compact();
    this.heartbeatTimer = setInterval(() => this.heartbeat(), HEARTBEAT_MS);
    this.heartbeatTimer.unref();
  }

  /** Touches the heartbeat; drops events past 30 days; retries an unwritable directory. */
  heartbeat(): void {
    if (this.heartbeatFile === undefined || !this.started) return;
    const now = this.now();
    try {
      const at = new Date(now);
      try {
        utimesSync(this.heartbeatFile, at, at);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        mkdirSync(path.dirname(this.heartbeatFile), { recursive: true, mode: 0o750 });
        closeSync(openSync(this.heartbeatFile, 'a', 0o600));
        utimesSync(this.heartbeatFile, at, at);
      }
    } catch (error) {
      this.failed(error);
    }
    if (this.compacting === undefined && this.events.length > 0 && this.events[0]!.time < now - this.maxAgeMs) this.trimMemory();
    this.pruneChanges();
    // The file catches up with memory by a rewrite: events recorded while it was unwritable are in it.
    if (this.problem !== undefined || this.behind || this.overBounds()) void this.compact();
  }

  /** Stops the heartbeat, waits for a running compaction, closes the file. */
  async close(): Promise<void> {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    await this.compacting;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Resolves when no compaction runs (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.compacting) await this.compacting;
  }

  /**
   * Rewrites the file from memory (bounded: 30 days, 50,000 events): a temp file written and synced
   * asynchronously, then, in one synchronous step, the events recorded meanwhile appended to it and
   * the temp file renamed over events.jsonl. A reader sees the old file or the new one, never half.
   */
  compact(): Promise<void> {
    if (this.file === undefined || !this.started) return Promise.resolve();
    if (this.compacting) {
      // Asked again while one runs (the directory came back meanwhile): once more after it.
      this.compactAgain = true;
      return this.compacting;
    }
    const file = this.file;
    this.compacting = (async () => {
      do {
        this.compactAgain = false;
        await this.rewrite(file);
      } while (this.compactAgain);
    })().finally(() => {
      this.compacting = undefined;
    });
    return this.compacting;
  }

  private overBounds(): boolean {
    if (this.file === undefined || this.problem !== undefined || this.now() < this.compactRetryAt) return false;
    return this.fileEvents > this.maxEvents * (1 + COMPACT_MARGIN) || this.fileOldest < this.now() - this.maxAgeMs * (1 + COMPACT_MARGIN);
  }

  private async rewrite(file: string): Promise<void> {
    this.trimMemory();
    const kept = this.events;
    const snapshot = kept.length;
    const temp = `${file}.tmp`;
    const appended = this.appended;
    try {
      const handle = await openAsync(temp, 'w', 0o600);
      try {
        // In pieces: 50,000 events are ~10 MB of text, not to be held twice.
        for (let start = 0; start < snapshot; start += 1000) await handle.write(kept.slice(start, Math.min(snapshot, start + 1000)).map(formatEventLine).join(''));
        await handle.sync();
      } finally {
        await handle.close();
      }
      // From here on synchronous: no event can be recorded between the catch-up and the rename.
      const later = this.events.slice(snapshot);
      if (later.length > 0) appendFileSync(temp, later.map(formatEventLine).join(''));
      renameSync(temp, file);
      if (this.fd !== undefined) closeSync(this.fd);
      this.fd = undefined;
      this.openForAppend(file);
      this.fileEvents = this.events.length;
      this.fileOldest = this.events[0]?.time ?? Infinity;
      this.compactProblem = undefined;
      this.behind = false;
      this.recovered();
    } catch (error) {
      try {
        unlinkSync(temp);
      } catch {
        // Nothing was written, or the directory is gone: nothing to clean.
      }
      if (this.appended !== appended) this.compactAgain = true;
      else if (this.problem !== undefined) this.failed(error);
      else this.compactFailed(error);
    }
  }

  /**
   * A rewrite that failed while appends work (a disk with room for a line, not for a copy of the file):
   * events still reach the disk, so the directory is not called unwritable; said once per kind of
   * problem, and not tried again before the next heartbeat.
   */
  private compactFailed(error: unknown): void {
    this.compactRetryAt = this.now() + HEARTBEAT_MS;
    const code = (error as NodeJS.ErrnoException).code ?? 'ERROR';
    if (this.compactProblem === code) return;
    this.compactProblem = code;
    this.log.warn({ file: this.file, code, err: error instanceof Error ? error.message : String(error) }, 'cannot compact the event file: it grows past its bounds until it can');
  }

  /** Drops events past 30 days and beyond 50,000 (the oldest first). */
  private trimMemory(): void {
    const cutoff = this.now() - this.maxAgeMs;
    let drop = Math.max(0, this.events.length - this.maxEvents);
    while (drop < this.events.length && this.events[drop]!.time < cutoff) drop += 1;
    if (drop > 0) this.events = this.events.slice(drop);
  }

  private append(line: string, time: number): void {
    const file = this.file!;
    try {
      if (this.fd === undefined) this.openForAppend(file);
      const bytes = Buffer.from(line);
      // A short write (a disk filling up) is continued; its error cuts the file back to whole events.
      for (let written = 0; written < bytes.length; ) written += writeSync(this.fd!, bytes, written);
      this.goodSize += bytes.length;
      this.appended += 1;
      this.fileEvents += 1;
      this.fileOldest = Math.min(this.fileOldest, time);
      if (this.problem !== undefined) {
        // Written again: the file lacks what memory kept meanwhile, the rewrite puts it back.
        this.recovered();
        void this.compact();
      }
    } catch (error) {
      this.behind = true;
      if (this.fd !== undefined) {
        try {
          ftruncateSync(this.fd, this.goodSize);
        } catch {
          // The next start drops a torn last line all the same.
        }
      }
      this.failed(error);
    }
  }

  private openForAppend(file: string): void {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o750 });
    const fd = openSync(file, 'a', 0o600);
    this.fd = fd;
    this.goodSize = fstatSync(fd).size;
  }

  /** Logged once per kind of problem (its error code), not at every event or heartbeat. */
  private failed(error: unknown): void {
    const code = (error as NodeJS.ErrnoException).code ?? 'ERROR';
    const message = error instanceof Error ? error.message : String(error);
    if (this.fd !== undefined && code !== 'ENOSPC' && code !== 'EFBIG' && code !== 'EDQUOT') {
      // Reopened at the next attempt: the directory may come back (a remount, a recreated directory).
      try {
        closeSync(this.fd);
      } catch {
        // Already unusable.
      }
      this.fd = undefined;
    }
    if (this.problem?.code === code) return;
    const dir = path.dirname(this.file!);
    this.problem = { code, text: `cannot write to the state directory ${dir} (${message}): events are kept in memory only, and lost at a restart, until it is writable again` };
    this.version += 1;
    this.log.error({ stateDir: dir, code, err: message }, 'state directory not writable: events kept in memory only');
    this.onStatus?.(this.status());
  }

  private recovered(): void {
    if (this.problem === undefined) return;
    const dir = path.dirname(this.file!);
    this.log.info({ stateDir: dir, was: this.problem.code }, 'state directory writable again: events are written to disk');
    this.problem = undefined;
    this.version += 1;
    this.onStatus?.(this.status());
  }

  /** Reads the file back; changes nothing on disk (start() does). */
  private load(): void {
    const read = readEventFile(this.file!, this.maxEvents);
    if (read.error) this.failed(read.error);
    this.events = read.events;
    this.trimMemory();
    this.fileEvents = read.events.length;
    this.fileOldest = read.events.reduce((oldest, event) => Math.min(oldest, event.time), Infinity);
    this.previousAlive = this.lastAlive(read.events);
    const cutoff = this.now() - CHANGE_WINDOW_MS;
    for (const event of this.events) if (event.time >= cutoff) this.noteChange(event);
    this.found = read;
  }

  /** What start() finds to repair in the file read at open: a corrupt file set aside, a torn last line cut off. */
  private repair(file: string, found: ReadResult): void {
    if (found.invalid > 0) {
      this.setCorruptAside(file, found.invalid, found.events.length);
    } else if (found.tornAt !== undefined) {
      try {
        const fd = openSync(file, 'r+');
        try {
          ftruncateSync(fd, found.tornAt);
        } finally {
          closeSync(fd);
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.failed(error);
      }
    }
  }

  /**
   * The rule: a file of ours holds nothing but events, one per line; only its last line may be torn
   * (no newline: a SIGKILL or a full disk mid-write) and is dropped. A single other line that is not
   * an event means the file is not (only) ours: it is renamed `events.jsonl.corrupt-<time>` and a new
   * events.jsonl is written with its valid events.
   */
  private setCorruptAside(file: string, invalid: number, valid: number): void {
    const aside = `${file}.corrupt-${new Date(this.now()).toISOString().replace(/[:.]/g, '-')}`;
    try {
      renameSync(file, aside);
      this.setAside = aside;
      this.fileEvents = 0;
      this.version += 1;
      this.log.warn({ file, setAside: aside, invalidLines: invalid, validEvents: valid }, 'event file corrupt or foreign: set aside, its valid events kept');
    } catch (error) {
      this.failed(error);
    }
  }

  private lastAlive(events: readonly HistoryEvent[]): number | undefined {
    let lastAgent: HistoryEvent | undefined;
    for (let index = events.length - 1; index >= 0 && !lastAgent; index--) if (events[index]!.module === 'agent') lastAgent = events[index];
    if (lastAgent?.to === 'stopped') {
      this.previousStopped = true;
      return lastAgent.time;
    }
    let alive = events.length > 0 ? events[events.length - 1]!.time : undefined;
    try {
      const beat = statSync(this.heartbeatFile!).mtimeMs;
      alive = Math.max(alive ?? beat, beat);
    } catch {
      // No heartbeat: a first start, or a run that never got to write one.
    }
    return alive;
  }
}

/** A change of a row's state: not a first verdict, not an agent event. */
function isChange(event: HistoryEvent): boolean {
  return event.from !== null && event.module !== 'agent';
}

function changeKey(event: HistoryEvent): string {
  return eventRowKey(event.module, event.instance);
}
