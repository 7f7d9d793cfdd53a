// Discovery of a Campaign Classic install: which instances exist, which modules are enabled where, where
// var/ lives and where syslogd listens. Reads conf/serverConf.xml, conf/config-default.xml,
// conf/config-<instance>.xml and customer.sh; never runs anything. A bad install never makes it throw:
// every problem becomes one line in `problems`.
import { constants as fsConstants } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Attributes, Install } from '../core/contracts.js';
import { parseCustomerSh, parseTraceAddr } from './customerSh.js';
import { parseConfXml } from './serverConfXml.js';
import { INSTANCE_NAME, INSTANCE_NAME_RULE } from '../util/names.js';

/** Instance names reach command lines (`-instance:<name>`), so only these are accepted. */

/** Conf files larger than this are not read (the real ones are a few tens of kB). */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

/** customer.sh variables that change what discovery returns; notes about others are not problems. */
const RELEVANT_VARS = new Set(['TRACE_ADDR', 'XTK_VAR_DIR']);

export interface DiscoverOptions {
  installDir: string;
  /** Explicit instance list from the config; when given, conf/ is not scanned for config-<inst>.xml. */
  instances?: string[];
}

/** Control characters in a path (a file name can hold a newline) would break the one-line problems. */
function shown(p: string): string {
  return p.replace(/[\u0000-\u001f\u007f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function errorCode(err: unknown): string {
  if (err !== null && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown };
    if (typeof e.code === 'string') return e.code;
    if (typeof e.message === 'string') return e.message;
  }
  return String(err);
}

class FileError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

/**
 * Reads a regular file as UTF-8. Opened non-blocking so a FIFO in place of a conf file cannot hang
 * discovery; throws a FileError whose code is the errno name (EISDIR for a directory).
 */
async function readRegularFile(file: string): Promise<string>;
async function readRegularFile(file: string, unchanged: string | undefined): Promise<{ version: string; text?: string }>;
async function readRegularFile(file: string, ...since: [string | undefined] | []): Promise<string | { version: string; text?: string }> {
  let handle;
  try {
    handle = await open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (err) {
    throw new FileError(errorCode(err));
  }
  try {
    const st = await handle.stat({ bigint: true });
    if (st.isDirectory()) throw new FileError('EISDIR');
    if (!st.isFile()) throw new FileError('not a regular file');
    if (st.size > BigInt(MAX_FILE_BYTES)) throw new FileError(`larger than ${MAX_FILE_BYTES} bytes`);
    if (since.length === 0) return await handle.readFile({ encoding: 'utf8' });
    // The same file, same size, not modified since (to the nanosecond): what was read last time.
    const version = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    if (version === since[0]) return { version };
    return { version, text: await handle.readFile({ encoding: 'utf8' }) };
  } catch (err) {
    throw err instanceof FileError ? err : new FileError(errorCode(err));
  } finally {
    await handle.close().catch(() => undefined);
  }
}

type Layer = Map<string, Map<string, string>>;

/**
 * Parsed conf files by path, reused while the file is unchanged: discovery runs every minute, and
 * parsing serverConf.xml (hundreds of KB on a real install) each time was most of its cost.
 */
const parsedConfs = new Map<string, { version: string; layer: Layer; warnings: string[] }>();

/** How many conf files were parsed (not taken from the cache) since start: for tests. */
export const confParses = { count: 0 };

/** Reads and parses one conf file; a problem line instead of a layer when that fails. */
async function readConf(file: string, problems: string[], required: boolean): Promise<Layer | undefined> {
  const known = parsedConfs.get(file);
  let text: string;
  let version: string;
  try {
    const read = await readRegularFile(file, known?.version);
    if (read.text === undefined && known) {
      problems.push(...known.warnings);
      return known.layer;
    }
    version = read.version;
    text = read.text ?? '';
  } catch (err) {
    parsedConfs.delete(file);
    const code = err instanceof FileError ? err.code : errorCode(err);
    if (code === 'ENOENT') {
      if (required) problems.push(`${shown(file)} does not exist`);
    } else {
      problems.push(`cannot read ${shown(file)}: ${code}`);
    }
    return undefined;
  }
  try {
    confParses.count++;
    const conf = parseConfXml(text, shown(file));
    problems.push(...conf.warnings);
    const layer: Layer = new Map(Object.entries(conf.modules).map(([name, attrs]) => [name, new Map(Object.entries(attrs))]));
    parsedConfs.set(file, { version, layer, warnings: conf.warnings });
    return layer;
  } catch (err) {
    parsedConfs.delete(file);
    problems.push(err instanceof Error ? err.message : String(err));
    return undefined;
  }
}

function notFound(installDir: string, problem: string, instances: string[], problems: string[]): Install {
  return makeInstall({
    installDir,
    found: false,
    problems: [problem, ...problems],
    varDir: path.join(installDir, 'var'),
    instances,
    redirLogDirs: [],
    layers: { server: undefined, byDefault: undefined, byInstance: new Map() },
  });
}

interface Layers {
  server: Layer | undefined;
  byDefault: Layer | undefined;
  byInstance: Map<string, Layer | undefined>;
  /** Conf file that could not be used -> why (the first problem line it gave). */
  failed?: { server?: string; byDefault?: string; byInstance: Map<string, string> };
}

/** What discovery found, before the accessors that merge the layers are added. */
type InstallData = Omit<Install, 'moduleAttributes' | 'autoStart' | 'traceAddr' | 'confProblem'> & {
  traceAddr?: Install['traceAddr'];
  layers: Layers;
};

function makeInstall(d: InstallData): Install {
  const { layers } = d;
  const moduleAttributes = (module: string, instance?: string): Attributes => {
    const merged = new Map<string, string>();
    const order = [layers.server, layers.byDefault];
    if (instance !== undefined && instance !== 'default') order.push(layers.byInstance.get(instance));
    for (const layer of order) {
      const attrs = layer?.get(module);
      if (attrs) for (const [k, v] of attrs) merged.set(k, v);
    }
    // Migrations disable a module by renaming autoStart to _autoStart: it must never count as autoStart.
    merged.delete('_autoStart');
    return Object.fromEntries(merged);
  };
  const install: Install = {
    installDir: d.installDir,
    found: d.found,
    problems: d.problems,
    varDir: d.varDir,
    instances: d.instances,
    redirLogDirs: d.redirLogDirs,
    moduleAttributes,
    confProblem: (instance?: string): string | undefined =>
      layers.failed?.server ??
      layers.failed?.byDefault ??
      (instance === undefined || instance === 'default' ? undefined : layers.failed?.byInstance.get(instance)),
    autoStart: (module: string, instance?: string): boolean =>
      (moduleAttributes(module, instance).autoStart ?? '').trim().toLowerCase() === 'true',
  };
  if (d.traceAddr) install.traceAddr = d.traceAddr;
  return install;
}

/** Validates an explicit instance list: sorted, deduplicated, invalid names dropped with a problem. */
function checkedInstanceList(names: string[], problems: string[]): string[] {
  const ok = new Set<string>();
  for (const name of names) {
    if (name === 'default') {
      problems.push('instance "default" in campaign.instances ignored: it is the per-machine pseudo-instance, not an instance');
    } else if (!INSTANCE_NAME.test(name)) {
      problems.push(`instance name ${JSON.stringify(name)} in campaign.instances ignored: expected ${INSTANCE_NAME_RULE}`);
    } else {
      ok.add(name);
    }
  }
  return [...ok].sort();
}

/** Discovers the Campaign install under `opts.installDir`. Never throws for a bad install. */
export async function discoverInstall(opts: DiscoverOptions): Promise<Install> {
  const installDir = path.resolve(opts.installDir);
  const confDir = path.join(installDir, 'conf');
  const problems: string[] = [];
  const explicit = opts.instances === undefined ? undefined : checkedInstanceList(opts.instances, problems);
  const hint = '(set campaign.installDir)';

  try {
    const st = await stat(installDir);
    if (!st.isDirectory()) {
      return notFound(installDir, `Campaign install not found: ${shown(installDir)} is not a directory ${hint}`, explicit ?? [], problems);
    }
  } catch (err) {
    const code = errorCode(err);
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read: ${code}`;
    return notFound(installDir, `Campaign install not found: ${shown(installDir)} ${why} ${hint}`, explicit ?? [], problems);
  }

  let confEntries: string[];
  try {
    confEntries = await readdir(confDir);
  } catch (err) {
    const code = errorCode(err);
    const problem =
      code === 'ENOENT' ? `Campaign install not found: ${shown(confDir)} does not exist ${hint}`
      : code === 'ENOTDIR' ? `Campaign install not found: ${shown(confDir)} is not a directory ${hint}`
      : `cannot read ${shown(confDir)}: ${code}`;
    return notFound(installDir, problem, explicit ?? [], problems);
  }

  // Which instances: the explicit list, or every conf/config-<inst>.xml with a safe name.
  let instances: string[];
  if (explicit !== undefined) {
    instances = explicit;
  } else {
    const names = new Set<string>();
    for (const entry of confEntries.sort()) {
      const m = /^config-(.*)\.xml$/s.exec(entry);
      if (!m || m[1] === 'default') continue;
      const name = m[1] as string;
      if (INSTANCE_NAME.test(name)) names.add(name);
      else {
        problems.push(
          `skipped ${shown(path.join(confDir, entry))}: instance name ${JSON.stringify(name)} is not valid (expected ${INSTANCE_NAME_RULE})`,
        );
      }
    }
    instances = [...names].sort();
  }

  const confFile = (name: string): string => path.join(confDir, name);
  // Problems are collected per file and appended in a fixed order, whatever order the reads finish in.
  const serverProblems: string[] = [];
  const defaultProblems: string[] = [];
  const instanceProblems = instances.map(() => [] as string[]);
  const customerProblems: string[] = [];
  const [server, byDefault, instanceLayers, customer] = await Promise.all([
    readConf(confFile('serverConf.xml'), serverProblems, true),
    readConf(confFile('config-default.xml'), defaultProblems, true),
    Promise.all(instances.map((inst, k) => readConf(confFile(`config-${inst}.xml`), instanceProblems[k] as string[], true))),
    readCustomerSh(path.join(installDir, 'customer.sh'), customerProblems),
  ]);
  problems.push(...serverProblems, ...defaultProblems, ...instanceProblems.flat(), ...customerProblems);

  let varDir = path.join(installDir, 'var');
  let traceAddr: { host: string; port: number } | undefined;
  if (customer) {
    const { file, vars } = customer;
    const xtkVarDir = vars.XTK_VAR_DIR;
    if (xtkVarDir !== undefined && xtkVarDir !== '') {
      if (path.isAbsolute(xtkVarDir)) varDir = path.resolve(xtkVarDir);
      else {
        problems.push(
          `${shown(file)}: XTK_VAR_DIR ${JSON.stringify(xtkVarDir)} is not an absolute path; using ${shown(varDir)}`,
        );
      }
    }
    const trace = vars.TRACE_ADDR;
    if (trace !== undefined && trace.trim() !== '') {
      try {
        traceAddr = parseTraceAddr(trace);
      } catch (err) {
        problems.push(`${shown(file)}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  return makeInstall({
    installDir,
    found: true,
    problems,
    varDir,
    instances,
    traceAddr,
    redirLogDirs: await listRedirLogDirs(varDir),
    layers: {
      server,
      byDefault,
      byInstance: new Map(instances.map((inst, k) => [inst, instanceLayers[k]])),
      failed: {
        ...(server === undefined ? { server: serverProblems[0] ?? `cannot read ${shown(confFile('serverConf.xml'))}` } : {}),
        ...(byDefault === undefined ? { byDefault: defaultProblems[0] ?? `cannot read ${shown(confFile('config-default.xml'))}` } : {}),
        byInstance: new Map(
          instances.flatMap((inst, k) =>
            instanceLayers[k] === undefined ? [[inst, instanceProblems[k]?.[0] ?? `cannot read ${shown(confFile(`config-${inst}.xml`))}`] as const] : [],
          ),
        ),
      },
    },
  });
}

/** customer.sh is optional: absent means no overrides. */
async function readCustomerSh(
  file: string,
  problems: string[],
): Promise<{ file: string; vars: Record<string, string> } | undefined> {
  let text: string;
  try {
    text = await readRegularFile(file);
  } catch (err) {
    const code = err instanceof FileError ? err.code : errorCode(err);
    if (code !== 'ENOENT') problems.push(`cannot read ${shown(file)}: ${code}`);
    return undefined;
  }
  const parsed = parseCustomerSh(text, shown(file));
  parsed.skipped.forEach((s, k) => {
    if (s.name === undefined || RELEVANT_VARS.has(s.name)) problems.push(parsed.notes[k] as string);
  });
  return { file, vars: parsed.vars };
}

/**
 * The tracking-log directories `<varDir>/<inst>/redir/log` that exist (written by trackinglogd on
 * redirection servers), sorted by instance. `default` is included when present; names that are not valid
 * instance names are ignored. Never throws: an unreadable varDir gives [].
 */
export async function listRedirLogDirs(varDir: string): Promise<{ instance: string; dir: string }[]> {
  let entries: string[];
  try {
    entries = await readdir(varDir);
  } catch {
    return [];
  }
  const found = await Promise.all(
    entries
      .filter((name) => INSTANCE_NAME.test(name))
      .map(async (instance) => {
        const dir = path.join(varDir, instance, 'redir', 'log');
        try {
          return (await stat(dir)).isDirectory() ? { instance, dir } : undefined;
        } catch {
          return undefined;
        }
      }),
  );
  return found
    .filter((x): x is { instance: string; dir: string } => x !== undefined)
    .sort((a, b) => (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0));
}
