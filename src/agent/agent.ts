import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AgentConfig } from '../config/schema.js';
import { discoverInstall } from '../discovery/index.js';
import { buildPlan, type Row } from '../core/plan.js';
import { runCheck } from '../core/runner.js';
import { StatusStore } from '../core/store.js';
import { AgentMetrics } from '../metrics/agentMetrics.js';
import { BUNDLE, projectRoot } from '../util/paths.js';
import type { ProbePlugin } from '../core/plugin.js';
import { portAttribute } from '../discovery/attributes.js';
import { CampaignSoapClient } from '../clients/soapSession.js';
import { nlserverReader, type NlserverView } from '../clients/nlserver/view.js';
import { Restarter } from '../restarts/restarter.js';
import type { NlserverRun } from '../restarts/run.js';
import { createCycleSnapshot } from '../snapshot/cycle.js';
import { ProcessCache } from '../snapshot/processes.js';
import type { CycleSnapshot, Install, Logger } from '../core/contracts.js';
import type { HistorySource } from '../history/source.js';

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
  /** What /report and the page's strips and events list read; none (an empty history) by default. */
  history?: HistorySource;
  /** Called after every probe cycle (the temporary recorder notes changed rows there). */
  afterCycle?: () => void;
}

const NO_HISTORY: HistorySource = { all: () => [] };

/** Changes whenever events are added or compacted away: part of the render version. */
function historyVersion(history: HistorySource): string {
  const events = history.all();
  return `${events.length}:${events[events.length - 1]?.time ?? ''}`;
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

  constructor(private options: AgentOptions) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.rediscoverMs = options.rediscoverMs ?? 60_000;
    this.metrics = new AgentMetrics(AGENT_VERSION, options.plugins);
    this.store = new StatusStore(this.now);
    this.store.onStale = (status) => this.metrics.updateRow(status);
    this.metrics.beforeCollect = () => this.store.expireStale();
    this.configureNlserver();
    this.restarter = new Restarter({ config: () => this.options.config, log: options.log, metrics: this.metrics, now: this.now, ...(options.restartRun ? { run: options.restartRun } : {}) });
  }

  get history(): HistorySource {
    return this.options.history ?? NO_HISTORY;
  }

  get config(): AgentConfig {
    return this.options.config;
  }

  /** Swaps in a validated config (SIGHUP) and re-plans; results of rows that remain are kept. */
  async reconfigure(config: AgentConfig): Promise<void> {
    this.options.config = config;
    this.configureNlserver();
    this.discoveredAt = -Infinity;
    await this.refresh();
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
      this.options.afterCycle?.();
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
    if (this.cyclesRunning === 0) this.publishedRows = `${this.store.version}/${this.metrics.version}`;
    return `${this.publishedRows}/${this.metrics.eventVersion}/${historyVersion(this.history)}`;
  }

  private async runRow(row: Row, snapshot: CycleSnapshot): Promise<void> {
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
    if (!this.plan.some((current) => current.key === row.key)) return;
    const status = this.store.record(row, outcomes, this.now());
    this.metrics.updateRow(status);
    // After the result is published: a restart (up to a minute) must not delay what /status shows.
    if (this.options.restarts !== false) await this.restarter.observe(row, status, async () => snapshot.nlserver?.(), this.now());
    if (status.state !== 'ok') this.log.debug({ row: row.key, state: status.state, detail: status.detail }, 'row checked');
  }

  private async discoverAndPlan(): Promise<void> {
    const { campaign } = this.options.config;
    const install = await discoverInstall({ installDir: campaign.installDir, instances: campaign.instances });
    this.logInstallChanges(install);
    this.install = install;
    this.discoveredAt = this.now();
    this.plan = buildPlan(this.options.plugins, this.options.config, install, { soapClient: (instance) => this.soapClient(install, instance), logonClient: (url) => this.logonClient(url) });
    const { removed } = this.store.sync(this.plan, this.now());
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

  private cycleSnapshot(): CycleSnapshot {
    const now = this.now();
    if (!this.snapshot || Math.abs(now - this.snapshot.at) >= (this.options.snapshotReuseMs ?? DEFAULT_SNAPSHOT_REUSE_MS)) {
      const value = this.options.snapshotFactory?.() ?? createCycleSnapshot({ nlserver: this.readNlserver, processCache: this.processCache });
      this.snapshot = { at: now, value };
    }
    return this.snapshot.value;
  }

  private configureNlserver(): void {
    const { campaign } = this.options.config;
    this.readNlserver = nlserverReader({
      enabled: campaign.nlserverView,
      file: campaign.nlserver,
      installDir: campaign.installDir,
      timeoutMs: campaign.nlserverTimeout,
    });
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
