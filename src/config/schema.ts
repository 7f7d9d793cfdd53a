import cron from 'node-cron';
import * as z from 'zod';
import { INSTANCE_NAME } from '../util/names.js';
import { durationCodec, durationOrOffCodec } from './duration.js';
import { refineRestarts, restartsSchema } from './restarts.js';

export const DEFAULT_LISTEN = '127.0.0.1:10466';
export const DEFAULT_INSTALL_DIR = '/usr/local/neolane/nl6';
/** systemd's StateDirectory=campaign-health (the unit in systemd/). */
export const DEFAULT_STATE_DIR = '/var/lib/campaign-health';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

/**
 * Written `500ms`, `10s`, `5m`, `1h30m`; parsed to milliseconds (a number). Defaults are given as text
 * with `.prefault('5m')`, so the docs and the schema say the same thing (see durationCodec).
 */
export const durationSchema = durationCodec('500ms, 10s, 5m or 1h');

/** How long after a run that changed verdict (held by flap damping) the row runs again; 0: only as scheduled. */
const confirmAfterSchema = durationOrOffCodec('2s, 5s or 10s', 3_600_000);

/** node-cron accepts 5 fields too; we insist on 6 so a schedule is never read a minute off. */
export const scheduleSchema = z
  .string({ error: (issue) => `expected a 6-field cron expression such as "*/30 * * * * *", got ${show(issue.input)}` })
  .refine((text) => text.trim().split(/\s+/).length === 6 && cron.validate(text), {
    error: (issue) =>
      `expected a 6-field cron expression (second minute hour day-of-month month day-of-week) such as "*/30 * * * * *", got ${show(issue.input)}`,
  });

export const absolutePathSchema = z
  .string({ error: (issue) => `expected an absolute path, got ${show(issue.input)}` })
  .refine((text) => text.startsWith('/') && !text.includes('\0'), {
    error: (issue) => `expected an absolute path, got ${show(issue.input)}`,
  });

export const listenSchema = z
  .string({ error: (issue) => `expected host:port such as 127.0.0.1:10466, got ${show(issue.input)}` })
  .refine((text) => parseListen(text) !== undefined, {
    error: (issue) => `expected host:port such as 127.0.0.1:10466 or [::1]:10466 (port 0-65535), got ${show(issue.input)}`,
  });

export const urlSchema = z
  .string({ error: (issue) => `expected an http:// or https:// URL, got ${show(issue.input)}` })
  .refine((text) => URL.canParse(text) && /^https?:$/.test(new URL(text).protocol), {
    error: (issue) => `expected an http:// or https:// URL, got ${show(issue.input)}`,
  });

export const instanceNameSchema = z
  .string({ error: (issue) => `expected an instance name, got ${show(issue.input)}` })
  .regex(INSTANCE_NAME, { error: (issue) => `expected an instance name (letters, digits, _ or -, not starting with -), got ${show(issue.input)}` });

export const portSchema = z
  .number({ error: (issue) => `expected a port number 1-65535, got ${show(issue.input)}` })
  .int({ error: (issue) => `expected a port number 1-65535, got ${show(issue.input)}` })
  .min(1, { error: (issue) => `expected a port number 1-65535, got ${show(issue.input)}` })
  .max(65535, { error: (issue) => `expected a port number 1-65535, got ${show(issue.input)}` });

/** A DNS name or an IP address: it reaches sockets only, never a command line. */
export const hostSchema = z
  .string({ error: (issue) => `expected a host name or IP address, got ${show(issue.input)}` })
  .regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*\.?|[0-9a-fA-F:.]+)$/, {
    error: (issue) => `expected a host name or IP address, got ${show(issue.input)}`,
  });

/** A regular expression source, compiled once to prove it is valid. */
export const regexSchema = z
  .string({ error: (issue) => `expected a regular expression, got ${show(issue.input)}` })
  .refine((text) => text.length > 0 && compiles(text), { error: (issue) => `expected a valid regular expression, got ${show(issue.input)}` });

function compiles(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/** Names that become metric label values and check names: bounded and plain. */
export const jobNameSchema = z
  .string({ error: (issue) => `expected a job name, got ${show(issue.input)}` })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, { error: (issue) => `expected a job name (letters, digits, _ . -; at most 64), got ${show(issue.input)}` });

const operatorLoginSchema = z
  .string({ error: (issue) => `expected an operator login, got ${show(issue.input)}` })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, { error: (issue) => `expected an operator login (letters, digits, _ . @ -), got ${show(issue.input)}` });

/** `modules.<name>.restartGrace`: daemons that Campaign restarts daily at processRestartTime. */
export const restartGraceShape = {
  restartGrace: durationSchema.prefault('5m'),
};

export function parseListen(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  return { host: (match[1] ?? match[2]) as string, port };
}

const runCountSchema = z
  .number({ error: (issue) => `expected a number of consecutive runs (1 or more), got ${show(issue.input)}` })
  .int({ error: (issue) => `expected a whole number of consecutive runs (1 or more), got ${show(issue.input)}` })
  .min(1, { error: (issue) => `expected a number of consecutive runs (1 or more), got ${show(issue.input)}` })
  .max(100, { error: (issue) => `expected at most 100 consecutive runs, got ${show(issue.input)}` });

/** Keys every module accepts; plugins add their own through `configShape`. */
export const moduleBaseShape = {
  enabled: z
    .union([z.literal('auto'), z.boolean()], { error: (issue) => `expected auto, true or false, got ${show(issue.input)}` })
    .default('auto'),
  schedule: scheduleSchema.optional(),
  timeout: durationSchema.optional(),
  // Consul-style flap damping: a single bad run (a slow answer, a process caught mid-restart) does
  // not flip a module to critical, and one good run does not clear it.
  failuresBeforeCritical: runCountSchema.default(2),
  successesBeforeOk: runCountSchema.default(1),
  // The run that counts towards them comes confirmAfter later rather than a schedule interval later.
  confirmAfter: confirmAfterSchema.optional(),
  // Opt-in automatic restarts; refused (with the reason) on modules that must never be restarted.
  restarts: restartsSchema.optional(),
  // The module's own log as evidence (checks/logErrors.ts): error lines within `window` warn, lines
  // matching `critical` make the row critical, lines matching `ignore` are skipped.
  logErrors: z
    .strictObject({
      path: absolutePathSchema.optional(),
      window: durationSchema.prefault('15m'),
      critical: z.array(regexSchema).default([]),
      ignore: z.array(regexSchema).default([]),
    })
    .prefault({}),
};

export type ModuleBaseShape = typeof moduleBaseShape;

/**
 * Keys of a module block that were renamed: the old key is refused with a message naming the new one
 * (`modules.mta.remediation: renamed to modules.mta.restarts`), see describeIssue in load.ts.
 */
export const RENAMED_MODULE_KEYS: Readonly<Record<string, string>> = { remediation: 'restarts' };

/** The schema of `modules.<module>`: the keys every module accepts, then the plugin's own. */
export function moduleSchema<S extends z.ZodRawShape>(module: string, configShape: S) {
  const redefined = Object.keys(configShape).filter((key) => Object.hasOwn(moduleBaseShape, key));
  // A plugin key replacing a common one would break what the engine reads (ModuleConfig).
  if (redefined.length > 0) throw new Error(`modules.${module}: the plugin redefines ${redefined.join(', ')}, keys every module has`);
  return z.strictObject({ ...moduleBaseShape, ...configShape }).superRefine(refineRestarts(module));
}

/** A module block as parsed (defaults filled in, durations in ms) for a plugin whose own keys are S. */
export type ModuleConfigOf<S extends z.ZodRawShape> = z.output<ReturnType<typeof moduleSchema<S>>>;

/** A module block as the engine reads it: the keys every module has. */
export type ModuleConfig = ModuleConfigOf<{}>;

/** What a zod shape parses to (a plugin's own keys, without the ones every module has). */
export type ShapeOutput<S extends z.ZodRawShape> = z.output<z.ZodObject<S>>;

/** What the config schema needs of a probe plugin: its module name and its own keys. */
export interface ModuleConfigSource {
  module: string;
  configShape?: z.ZodRawShape;
}

/**
 * The schema of a plugin's block as the engine sees it: its output type is ModuleConfig, what every
 * module has. A plugin's own keys are parsed all the same; typed as none, the output type is a
 * supertype of what is parsed (moduleSchema refuses a plugin redefining a common key). definePlugin
 * (core/plugin.ts) types them for the plugin itself.
 */
function engineModuleSchema(plugin: ModuleConfigSource) {
  const own: {} = plugin.configShape ?? {};
  return moduleSchema(plugin.module, own);
}

/** The block of a module absent from `modules` (a config parsed for other plugins): as if written `{}`. */
export function moduleDefaults(plugin: ModuleConfigSource): ModuleConfig {
  return engineModuleSchema(plugin).parse({});
}

export function buildConfigSchema(plugins: readonly ModuleConfigSource[]) {
  const modules = Object.fromEntries(plugins.map((plugin) => [plugin.module, engineModuleSchema(plugin).prefault({})]));
  return z.strictObject({
    listen: listenSchema.default(DEFAULT_LISTEN),
    logLevel: z.enum(LOG_LEVELS, { error: (issue) => `expected one of ${LOG_LEVELS.join(', ')}, got ${show(issue.input)}` }).default('info'),
    // TLS and basic auth of the endpoint, in exporter-toolkit's web-config format (src/http/webConfig.ts).
    webConfigFile: absolutePathSchema.optional(),
    // The event log (events.jsonl) and its heartbeat: docs/history.md.
    stateDir: absolutePathSchema.default(DEFAULT_STATE_DIR),
    campaign: z
      .strictObject({
        installDir: absolutePathSchema.default(DEFAULT_INSTALL_DIR),
        nlserver: absolutePathSchema.optional(),
        nlserverView: z
          .union([z.literal('auto'), z.boolean()], { error: (issue) => `expected auto, true or false, got ${show(issue.input)}` })
          .default('auto'),
        nlserverTimeout: durationSchema.prefault('5s'),
        // How often the nlserver view (pdump, monitor -missing) is read: each read forks the agent twice.
        nlserverSchedule: scheduleSchema.default('0 * * * * *'),
        instances: z.array(instanceNameSchema).optional(),
        soap: z
          .strictObject({
            login: operatorLoginSchema.optional(),
            passwordFile: absolutePathSchema.optional(),
            url: urlSchema.optional(),
            instanceUrls: z.record(instanceNameSchema, urlSchema).optional(),
          })
          .refine((soap) => (soap.login === undefined) === (soap.passwordFile === undefined), {
            error: 'login and passwordFile go together: set both to enable the SOAP deep checks, or neither',
          })
          .prefault({}),
      })
      .prefault({}),
    defaults: z
      .strictObject({
        schedule: scheduleSchema.optional(),
        timeout: durationSchema.prefault('10s'),
        confirmAfter: confirmAfterSchema.prefault('5s'),
      })
      .prefault({}),
    modules: z.strictObject(modules).prefault({}),
  });
}

type ParsedConfig = z.output<ReturnType<typeof buildConfigSchema>>;

/**
 * The agent's config as parseConfig returns it: the schema's output (defaults filled in, durations in
 * milliseconds), with `campaign.nlserver` resolved (`<installDir>/bin/nlserver` when unset).
 */
export interface AgentConfig extends Omit<ParsedConfig, 'campaign'> {
  campaign: ParsedConfig['campaign'] & { nlserver: string };
}
