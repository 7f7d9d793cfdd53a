import type { NlserverView } from '../clients/nlserver/types.js';
import type { LogonProbe, QueryResult } from '../clients/soapTypes.js';
import type { AgentConfig, ModuleConfig } from '../config/schema.js';
import type { Logger } from '../util/logger.js';

export type { Logger };

// Shared contracts between the engine (when), the check primitives (how) and the probe plugins (what).

/** Result state of one check; `disabled` only ever applies to a whole module row. */
export type CheckState = 'ok' | 'warning' | 'critical' | 'unknown';
export type State = CheckState | 'disabled';

export const STATES: readonly State[] = ['ok', 'warning', 'critical', 'unknown', 'disabled'];

export interface CheckResult {
  state: CheckState;
  /** One line a person can act on; never contains secrets. */
  message: string;
  /** Numeric observations exported as metrics, base units (e.g. `response_seconds`). */
  values?: Record<string, number>;
  /**
   * The check could not look this run (its source off or failed, nothing to compare), or only counts:
   * `state` is then no verdict. The row leaves it out of its state and of campaign_check_success, and
   * shows `message` in its detail; its values are still exported.
   */
  noEvidence?: true;
  /** Extra, bounded label values for the value metrics (e.g. `campaign_job`); never a pid or a message. */
  labels?: Record<string, string>;
}

/** One running process as read from /proc. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** argv split on NUL (or on spaces when a process rewrote its title into one string). */
  argv: string[];
  /** Short name from /proc/<pid>/stat (`comm`). */
  comm: string;
  /** Process start time, ms since the epoch (from boot time + starttime ticks). */
  startedAtMs: number;
  /** Resident set size in bytes. */
  rssBytes: number;
  /** Kernel state letter from /proc/<pid>/stat (R, S, Z...). */
  stateLetter: string;
}

export type SocketProto = 'tcp' | 'udp';

/** One socket from /proc/net/{tcp,tcp6,udp,udp6}. */
export interface SocketInfo {
  proto: SocketProto;
  family: 4 | 6;
  localAddress: string;
  localPort: number;
  /** TCP: 'LISTEN', 'ESTABLISHED', ...; UDP: 'UNCONN' for a bound, unconnected socket, 'ESTABLISHED' for connected. */
  state: string;
  inode: number;
}

/** Taken lazily, at most once per probe cycle, and shared by every check of that cycle. */
export interface CycleSnapshot {
  processes(): Promise<ProcessInfo[]>;
  /** UDP sockets and listening TCP sockets (`proto`, `family` pick tables); established connections are not read. */
  sockets(proto?: SocketProto, family?: 4 | 6): Promise<SocketInfo[]>;
  /** `nlserver pdump` and `nlserver monitor -missing`; absent means the integration is off. */
  nlserver?(): Promise<NlserverView>;
}

/** What one check run receives. */
export interface CheckContext {
  /** Aborted when the check's timeout passes; primitives pass it to sockets, fetch and execa. */
  signal: AbortSignal;
  snapshot: CycleSnapshot;
  /** Injectable clock, ms since the epoch. */
  now(): number;
  /** Memory that survives between runs of the same check (e.g. last seen file size). */
  memory: Map<string, unknown>;
  log: Logger;
}

/** A named, self-contained check built by a primitive in src/checks/. */
export interface Check {
  /** Stable, metric-label-safe name: [a-z0-9_]+ */
  name: string;
  /**
   * Bounded label values telling apart checks of one name in a row, e.g. trackinglogd's `redir_log`,
   * once per Campaign instance: `{ redir_instance: 'prod' }`. Part of the check's identity (its series,
   * its memory, how /status names it); the plugin declares their names in `checkLabels`.
   */
  labels?: Readonly<Record<string, string>>;
  /** Overrides the module's timeout for this check. */
  timeoutMs?: number;
  run(ctx: CheckContext): Promise<CheckResult>;
}

/** The module node attributes known for one module, merged from serverConf.xml and config-*.xml. */
export type Attributes = Record<string, string>;

/** What discovery learnt from the Campaign install. */
export interface Install {
  installDir: string;
  /** false when the install dir or conf/ could not be read; `problems` says why. */
  found: boolean;
  problems: string[];
  /** `<installDir>/var` unless customer.sh sets XTK_VAR_DIR. */
  varDir: string;
  /** Instances from conf/config-<inst>.xml (never `default`), sorted. */
  instances: string[];
  /** TRACE_ADDR from customer.sh, if set. */
  traceAddr?: { host: string; port: number };
  /**
   * Attributes of `<module>` merged in precedence order: serverConf.xml, then config-default.xml,
   * then config-<instance>.xml when an instance is given. `_autoStart` is removed, never read as autoStart.
   */
  moduleAttributes(module: string, instance?: string): Attributes;
  /**
   * Why a conf file the module's attributes come from could not be used (serverConf.xml and
   * config-default.xml; config-<instance>.xml too when an instance is given), naming the file and the
   * problem; undefined when every one was read. Rows that depend on it are `unknown`, never guessed.
   */
  confProblem(instance?: string): string | undefined;
  /** autoStart="true" after merging as above. */
  autoStart(module: string, instance?: string): boolean;
  /** `<varDir>/<instance>/redir/log` directories that exist (tracking logs: redirection servers only). */
  redirLogDirs: { instance: string; dir: string }[];
}

/** Where a plugin instance runs: per machine (instance `default`) or per Campaign instance. */
export type ModuleScope = 'machine' | 'instance';

/**
 * What a plugin gets to build the checks of one module instance. `C` is its config block: a plugin
 * made with definePlugin sees its own keys, typed from its configShape.
 */
export interface ProbeTarget<C = ModuleConfig> {
  module: string;
  instance: string;
  install: Install;
  /** The module's resolved config block (`modules.<name>`): defaults filled in, durations in ms. */
  config: C;
  /** Default check timeout (ms) from `defaults.timeout`. */
  timeoutMs: number;
  /** The agent-wide `campaign` block. */
  campaign: AgentConfig['campaign'];
  /**
   * The instance's SOAP session for the deep checks: only when an operator login is configured and
   * the instance's soaprouter URL is known (see `campaign.soap`). Shared, so one logon serves all.
   */
  soap?: CampaignSession;
  /**
   * A client that logs on as `campaign.soap.login` at a soaprouter URL (the web row's logon check):
   * only when an operator login and its password file are configured. Shared per URL and operator.
   */
  logonClient?(url: string): CampaignLogon;
}

/**
 * An instance's logged-on SOAP session, as the deep checks use it (src/clients/soapSession.ts
 * implements it): a queryDef in, records out; it throws CampaignSoapError-shaped errors.
 */
export interface CampaignSession {
  query(queryDefXml: string, signal: AbortSignal): Promise<QueryResult>;
}

/**
 * A real Logon then Logoff as the configured operator (src/clients/soapSession.ts implements it); it
 * throws CampaignSoapError-shaped errors when the Logon fails.
 */
export interface CampaignLogon {
  /** The operator logged on as: named in messages (never its password). */
  readonly login: string;
  logonAndLogoff(signal: AbortSignal): Promise<LogonProbe>;
}
