import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runCommand } from '../command.js';
import { firstLine } from '../../util/format.js';
import { parseMonitorMissing } from './monitorMissing.js';
import { parsePdump } from './pdump.js';
import type { CommandView, MissingTask, NlserverView, ParsedOutput, PdumpTask } from './types.js';

export type { CommandView, NlserverView };

export interface NlserverReaderOptions {
  /** `auto`: on when the binary exists and is executable. */
  enabled: 'auto' | boolean;
  file: string;
  installDir: string;
  timeoutMs: number;
}

// The one cap on what an nlserver command may print (pdump, monitor -missing, start/restart, pdump -who):
// they print a few dozen lines; anything near this size is not their output (the 10 MB junk case).
export const NLSERVER_OUTPUT_CAP = 256 * 1024;

/** Returns a function that runs `nlserver pdump` and `nlserver monitor -missing` side by side. */
export function nlserverReader(opts: NlserverReaderOptions): () => Promise<NlserverView> {
  const env = nlserverEnv(opts.installDir);
  const run = async <T>(args: string[], parse: (text: string) => ParsedOutput<T>): Promise<CommandView<T>> => {
    const started = performance.now();
    const result = await runCommand({ file: opts.file, args, timeoutMs: opts.timeoutMs, maxOutputBytes: NLSERVER_OUTPUT_CAP, env });
    const durationMs = Math.round(performance.now() - started);
    const parsed = parse(result.stdout);
    const recognised = parsed.banner !== undefined || parsed.noTasks || parsed.entries.length > 0;
    if (result.timedOut || result.truncated || result.exitCode === undefined) {
      return { ok: false, error: result.error ?? 'did not finish', parsed, durationMs };
    }
    const said = firstLine(result.stderr, 160);
    if (!recognised && !(args[0] === 'monitor' && result.stdout.trim() === '' && result.exitCode === 0)) {
      const first = parsed.unexpected[0];
      const why = result.exitCode !== 0 ? `exited with code ${result.exitCode}` : 'printed nothing of the documented shape';
      return { ok: false, error: `${why}${said ? `: ${said}` : first ? `: ${first}` : ''}`, parsed, durationMs };
    }
    // Exit codes of pdump and monitor are undocumented: usable output wins, the code is noted.
    const note = result.exitCode !== 0 ? { error: `exited with code ${result.exitCode}${said ? `: ${said}` : ''}` } : {};
    return { ok: true, ...note, parsed, durationMs };
  };
  return async () => {
    const off = await disabledReason(opts);
    if (off !== undefined) return offView(off);
    // Each spawn blocks the event loop for a fork() and execa's setup (~2 ms at the agent's size):
    // one per turn, so a /metrics request never waits for both.
    const [pdump, missing] = await Promise.all([
      run(['pdump'], parsePdump),
      new Promise((resolve) => setImmediate(resolve)).then(() => run(['monitor', '-missing'], parseMonitorMissing)),
    ]);
    return { enabled: true, pdump, missing };
  };
}

/** What every nlserver run gets on top of the agent's environment (the view, automatic restarts). */
export function nlserverEnv(installDir: string): Record<string, string> {
  // env.sh cannot be sourced without a shell; nlserver needs at least these two to find itself.
  return {
    XTK_INSTALL_DIR: installDir,
    LD_LIBRARY_PATH: [path.join(installDir, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
  };
}

async function disabledReason(opts: NlserverReaderOptions): Promise<string | undefined> {
  if (opts.enabled === false) return 'nlserver integration switched off (campaign.nlserverView: false)';
  if (opts.enabled === true) return undefined;
  try {
    await access(opts.file, constants.X_OK);
    return undefined;
  } catch {
    return `no executable nlserver at ${opts.file}`;
  }
}

export function offView(reason: string): NlserverView {
  const empty = <T>(): CommandView<T> => ({ ok: false, error: reason, parsed: { entries: [], noTasks: false, unexpected: [] }, durationMs: 0 });
  return { enabled: false, reason, pdump: empty(), missing: empty() };
}
