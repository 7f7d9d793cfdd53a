import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AgentConfig } from '../config/schema.js';
import { discoverInstall } from '../discovery/index.js';
import { buildPlan, type Row } from '../core/plan.js';
import { runCheck } from '../core/runner.js';
import { StatusStore, type RowStatus } from '../core/store.js';
import { Confirmations, nodeTimers, type Timers } from '../core/confirm.js';
import { AgentMetrics } from '../metrics/agentMetrics.js';
import { BUNDLE, projectRoot } from '../util/paths.js';
import type { ProbePlugin } from '../core/plugin.js';
import { portAttribute } from '../discovery/attributes.js';
import { CampaignSoapClient } from '../clients/soapSession.js';
import { nlserverReader, type NlserverView } from '../clients/nlserver/view.js';
import { NlserverViewCache } from '../clients/nlserver/viewCache.js';
import { scheduleIntervalMs } from '../core/interval.js';
import { Restarter } from '../restarts/restarter.js';
import type { NlserverRun } from '../restarts/run.js';
import { createCycleSnapshot } from '../snapshot/cycle.js';
import { ProcessCache } from '../snapshot/processes.js';
import type { CycleSnapshot, Install, Logger } from '../core/contracts.js';
import { EventLog } from '../history/eventLog.js';
import { eventInstance } from '../history/event.js';

export interface AgentOptions {
  config: AgentConfig;
  plugins: readonly ProbePlugin[];
  log: Logger;
  now?: () => number;
  /** How often the Campaign install is read again (new instances, enabled modules, new redir dirs). */
  rediscoverMs?: number;
  /** Where process and socket tables come from; /proc by default. */
  snapshotFactory?: () => CycleSnapshot;
  /** Runs `nlserver` for automatic restarts; the configured binary by default (tests inject one). */
  restartRun?: NlserverRun;
  /** false: never restart, whatever the config says (the one-shot `check` command is read-only). Default true. */
  restarts?: boolean;
  /** Cycles starting within this many ms share one snapshot (default 250); 0 gives every cycle its own (the bench). */
  snapshotReuseMs?: number;
  /** The timers of confirmation runs (core/confirm.ts); Node's, unref'd, by default. Tests drive their own. */
  timers?: Timers;
  /** Where state changes are recorded: the daemon's log of stateDir; in memory only by default (`check` writes nothing). */
  history?: EventLog;
}

export const AGENT_VERSION: string =
  BUNDLE?.version ?? (JSON.parse(readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;

// Schedules that fire on the same tick (within a few ms) see the same process and socket tables.
const DEFAULT_SNAPSHOT_REUSE_MS = 250;

/**
 * The engine's core: knows what to run (the plan from discovery and config) and runs it, keeping the
 * status store and the metrics in step. Scheduling and exposition live elsewhere.
 */
export class Agent {
  readonly store: StatusStore;
  readonly metrics: AgentMetrics;
  /** Opt-in automatic restarts (modules.<name>.restarts, docs/restarts.md), consulted after every recorded run. */
  readonly restarter: Restarter;
  readonly startedAt: number;
  readonly now: () => number;
  /** Every change of a row's state, and the agent's own events (docs/history.md). */
  readonly history: EventLog;
  private plan: Row[] = [];
  private install?: Install;
  private discoveredAt = -Infinity;
  private refreshing?: Promise<void>;
  private snapshot?: { at: number; value: CycleSnapshot };
  private cyclesRunning = 0;
  private publishedRows = '';
  /** What one pass over /proc leaves for the next (command lines, quiet processes): src/snapshot/processes.ts. */
  private readonly processCache = new ProcessCache();
  private readonly memories = new Map<string, Map<string, unknown>>();
  private readonly rediscoverMs: number;
  private readNlserver!: () => Promise<NlserverView>;
  /** One SOAP client per soaprouter URL and operator, kept across re-plans so the session survives. */
  private readonly soapClients = new Map<string, CampaignSoapClient>();
  /** Rows re-run to confirm a changed verdict that flap damping holds (defaults.confirmAfter). */
  private readonly confirmations: Confirmations;
  /** The rows whose checks run right now, until recorded: one run of a row at a time. */
  private readonly checking = new Map<string, Promise<void>>();

  constructor(private options: AgentOptions) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.rediscoverMs = options.rediscoverMs ?? 60_000;
    this.metrics = new AgentMetrics(AGENT_VERSION, options.plugins);
    this.store = new StatusStore(this.now);
    this.store.onStale = (status) => this.metrics.updateRow(status);
    this.metrics.beforeCollect = () => this.store.expireStale();
    this.history = options.history ?? EventLog.inMemory({ now: this.now });
    this.metrics.stateWritable(this.history.status().writable);
    this.history.onStatus = (status) => this.metrics.stateWritable(status.writable);
    this.store.onChange = (status, from) => {
      this.history.record({ module: status.module, instance: eventInstance(status.instance), from, to: status.state, detail: status.detail, time: status.since });
      if (from !== null) this.metrics.countStateChange(status, status.state);
    };
    this.configureNlserver();
    this.confirmations = new Confirmations(options.timers ?? nodeTimers, (key) => this.confirm(key));
    this.restarter = new Restarter({ config: () => this.options.config, log: options.log, metrics: this.metrics, now: this.now, ...(options.restartRun ? { run: options.restartRun } : {}) });
  }

  get config(): AgentConfig {
    return this.options.config;
  }

  /** Swaps in a validated config (SIGHUP) and re-plans; results of rows that remain are kept. */
  async reconfigure(config: AgentConfig): Promise<void> {
    this.options.config = config;
    // They were timed by the old config; the next scheduled runs count as usual.
    const cancelled = this.confirmations.cancelAll();
    if (cancelled > 0) this.log.debug({ cancelled }, 'config reloaded: pending confirmation runs cancelled');
    this.configureNlserver();
    this.discoveredAt = -Infinity;
    await this.refresh();
  }

  /** Shutting down: pending confirmation runs are cancelled and none is scheduled again. */
  stop(): void {
    const cancelled = this.confirmations.stop();
    if (cancelled > 0) this.log.debug({ cancelled }, 'stopping: pending confirmation runs cancelled');
  }

  /** Whether a cycle or a confirmation run is running (its results are not all recorded yet). */
  get cycling(): boolean {
    return this.cyclesRunning > 0;
  }

  /** The rows with a confirmation run pending. */
  pendingConfirmations(): string[] {
    return this.confirmations.keys();
  }

  get log(): Logger {
    return this.options.log;
  }

  rows(): readonly Row[] {
    return this.plan;
  }

  currentInstall(): Install | undefined {
    return this.install;
  }

  /** Plans once if nothing was planned yet. */
  async ensurePlanned(): Promise<void> {
    if (this.discoveredAt === -Infinity) await this.refresh();
  }

  /** Reads the Campaign install again and recomputes the plan; concurrent callers share one read. */
  refresh(): Promise<void> {
    this.refreshing ??= this.discoverAndPlan().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Runs the enabled rows selected by `keys` (all when omitted) once, sharing one snapshot. */
  async runCycle(keys?: ReadonlySet<string>): Promise<void> {
    this.cyclesRunning += 1;
    try {
      // Negative when the clock was set back: read the install now rather than when the clock catches up.
      const sinceDiscovery = this.now() - this.discoveredAt;
      if (sinceDiscovery >= this.rediscoverMs || sinceDiscovery < 0) await this.refresh();
      const rows = this.plan.filter((row) => row.enabled && !row.blocked && (!keys || keys.has(row.key)));
      const snapshot = this.cycleSnapshot();
      await Promise.all(rows.map((row) => this.runRow(row, snapshot)));
      this.metrics.countCycle();
    } finally {
      this.cyclesRunning -= 1;
    }
  }

  /**
   * What rendered /metrics, /status and / are cached on. Row results are published when no cycle is
   * running, not row by row: a cycle records ~20 rows over ~100 ms, and under a burst of scrapes each
   * of them cost a full re-rendering. Other changes (a refused reload, an automatic restart) count at once;
   * the render cache's 1 s age limit bounds what a cycle that never ends (a hung check) can hold back.
   */
  renderVersion(): string {
    this.store.expireStale();
    // The history's version with the rows': the page's strips and events list follow what the rows show.
    if (this.cyclesRunning === 0) this.publishedRows = `${this.store.version}/${this.metrics.version}/${this.history.version}`;
    return `${this.publishedRows}/${this.metrics.eventVersion}`;
  }

  /**
   * One run of a row. A row already running (a confirmation, when its schedule ticks) is not run a
   * second time: the caller shares that run's result. A run starting cancels the row's pending
   * confirmation, whose question it answers.
   */
  private async runRow(row: Row, snapshot: CycleSnapshot): Promise<void> {
    const running = this.checking.get(row.key);
    if (running) return running;
    if (this.confirmations.cancel(row.key)) this.log.debug({ row: row.key }, 'scheduled run came first: pending confirmation cancelled');
    const checked = this.checkRow(row, snapshot);
    this.checking.set(
      row.key,
      checked.then(
        () => this.checking.delete(row.key),
        () => this.checking.delete(row.key),
      ).then(() => undefined),
    );
    const status = await checked;
    if (status === undefined) return;
    // After the result is published: a restart (up to a minute) must not delay what /status shows.
    if (this.options.restarts !== false) await this.restarter.observe(row, status, async () => snapshot.nlserver?.(), this.now());
  }

  /** Runs the row's checks and records the result; undefined when the row vanished meanwhile. */
  private async checkRow(row: Row, snapshot: CycleSnapshot): Promise<RowStatus | undefined> {
    const outcomes = await Promise.all(
      row.checks.map((check) =>
        runCheck(check, {
          snapshot,
          now: this.now,
          log: this.log,
          timeoutMs: row.timeoutMs,
          memoryFor: (name) => this.memoryFor(`${row.key}/${name}`),
        }),
      ),
    );
    // The plan may have been replaced while the checks ran; a vanished row is not written back.
    if (!this.plan.some((current) => current.key === row.key)) return undefined;
    const status = this.store.record(row, outcomes, this.now());
    this.metrics.updateRow(status);
    if (status.state !== 'ok') this.log.debug({ row: row.key, state: status.state, detail: status.detail }, 'row checked');
    // Only a changed verdict is confirmed: in steady state, up or down, nothing runs between ticks.
    if (this.store.isHeld(row.key) && row.confirmAfterMs > 0) {
      this.confirmations.schedule(row.key, row.confirmAfterMs);
      this.log.debug({ row: row.key, confirmAfterMs: row.confirmAfterMs, detail: status.detail }, 'verdict held by flap damping: confirmation run scheduled');
    }
    return status;
  }

  /** A confirmation run: the row alone, on a snapshot of its own, counted like any run. */
  private async confirm(key: string): Promise<void> {
    const row = this.plan.find((current) => current.key === key);
    if (!row || !row.enabled || row.blocked || this.checking.has(key)) return;
    this.log.debug({ row: key }, 'confirmation run');
    this.cyclesRunning += 1;
    try {
      await this.runRow(row, this.cycleSnapshot(true));
    } catch (error) {
      this.log.error({ row: key, err: String(error) }, 'confirmation run failed');
    } finally {
      this.cyclesRunning -= 1;
    }
  }

  private async discoverAndPlan(): Promise<void> {
    const { campaign } = this.options.config;
    const install = await discoverInstall({ installDir: campaign.installDir, instances: campaign.instances });
    this.logInstallChanges(install);
    this.install = install;
    this.discoveredAt = this.now();
    this.plan = buildPlan(this.options.plugins, this.options.config, install, { soapClient: (instance) => this.soapClient(install, instance), logonClient: (url) => this.logonClient(url) });
    const { removed } = this.store.sync(this.plan, this.now());
    for (const row of this.plan) if (!row.enabled || row.blocked) this.confirmations.cancel(row.key);
    for (const key of removed) this.confirmations.cancel(key);
    for (const key of removed) for (const memory of this.memories.keys()) if (memory.startsWith(`${key}/`)) this.memories.delete(memory);
    this.metrics.syncPlan(this.plan, removed, (key) => this.store.get(key));
    this.restarter.sync(this.plan);
  }

  private logInstallChanges(install: Install): void {
    const before = this.install;
    const problems = install.problems.join('\n');
    if (!before || before.problems.join('\n') !== problems) {
      for (const problem of install.problems) this.log.warn({ installDir: install.installDir }, problem);
    }
    if (install.found && (!before?.found || before.instances.join(',') !== install.instances.join(','))) {
      this.log.info({ installDir: install.installDir, instances: install.instances }, 'Campaign install discovered');
    }
  }

  /** The snapshot cycles starting together share; `fresh`: a new one whatever its age (a confirmation looks again). */
  private cycleSnapshot(fresh = false): CycleSnapshot {
    const now = this.now();
    if (fresh || !this.snapshot || Math.abs(now - this.snapshot.at) >= (this.options.snapshotReuseMs ?? DEFAULT_SNAPSHOT_REUSE_MS)) {
      const value = this.options.snapshotFactory?.() ?? createCycleSnapshot({ nlserver: this.readNlserver, processCache: this.processCache });
      this.snapshot = { at: now, value };
    }
    return this.snapshot.value;
  }

  /** A new config starts a new view (another binary, another schedule): the next cycle reads it. */
  private configureNlserver(): void {
    const { campaign } = this.options.config;
    const read = nlserverReader({
      enabled: campaign.nlserverView,
      file: campaign.nlserver,
      installDir: campaign.installDir,
      timeoutMs: campaign.nlserverTimeout,
    });
    const cache = new NlserverViewCache(read, scheduleIntervalMs(campaign.nlserverSchedule), this.now);
    this.readNlserver = () => cache.get();
  }

  /**
   * The deep checks need to know which instance answers at a URL: with one instance the default
   * soaprouter (or campaign.soap.url) is it; with several, only campaign.soap.instanceUrls can say.
   */
  private soapClient(install: Install, instance: string): CampaignSoapClient | undefined {
    const { soap } = this.options.config.campaign;
    if (soap.login === undefined || soap.passwordFile === undefined) return undefined;
    // An unreadable httpPort throws (the row says so): never a guess at 8080.
    const single =
      install.instances.length === 1
        ? (soap.url ?? `http://127.0.0.1:${portAttribute(install.moduleAttributes('web'), 'web', 'httpPort', 8080)}/nl/jsp/soaprouter.jsp`)
        : undefined;
    const url = soap.instanceUrls?.[instance] ?? single;
    if (url === undefined) return undefined;
    return this.logonClient(url);
  }

  /** The client of the configured operator at a soaprouter URL (one per URL, shared with the deep checks). */
  private logonClient(url: string): CampaignSoapClient | undefined {
    const { soap } = this.options.config.campaign;
    if (soap.login === undefined || soap.passwordFile === undefined) return undefined;
    const key = `${url}\n${soap.login}\n${soap.passwordFile}`;
    let client = this.soapClients.get(key);
    if (!client) this.soapClients.set(key, (client = new CampaignSoapClient({ url, login: soap.login, passwordFile: soap.passwordFile })));
    return client;
  }

  private memoryFor(key: string): Map<string, unknown> {
    let memory = this.memories.get(key);
    if (!memory) this.memories.set(key, (memory = new Map()));
    return memory;
  }
}
