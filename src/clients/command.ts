import path from 'node:path';
import { execa } from 'execa';

const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
/** A command that ignores SIGTERM gets SIGKILL this long after: a health check must not hang on it. */
const FORCE_KILL_AFTER_MS = 2_000;

export interface RunCommandOptions {
  /** Absolute path of the program; no PATH lookup, no shell. */
  file: string;
  args: string[];
  timeoutMs: number;
  /** Per stream (stdout, stderr); beyond it the command is stopped and the output cut. Default 1 MiB. */
  maxOutputBytes?: number;
  signal?: AbortSignal;
  /** Added to (not replacing) the agent's environment. */
  env?: Record<string, string>;
}

export interface CommandResult {
  /** undefined when the program did not start or was killed by a signal. */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  truncated: boolean;
  /** Anything but a normal exit with code 0. */
  failed: boolean;
  /** Why it failed, in words, without the command line (arguments may carry secrets). */
  error?: string;
}

/**
 * Runs a program with an argument array and no shell, so arguments are never interpreted
 * (`; rm -rf /` stays a literal argument). Never rejects for what the program does; throws only for
 * invalid options, at call time.
 */
export async function runCommand(opts: RunCommandOptions): Promise<CommandResult> {
  validateRunOptions(opts);
  const maxOutputBytes = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const result = await execa(opts.file, opts.args, {
    shell: false,
    reject: false,
    stdin: 'ignore',
    timeout: opts.timeoutMs,
    forceKillAfterDelay: FORCE_KILL_AFTER_MS,
    cancelSignal: opts.signal,
    // Bytes, not characters: execa measures maxBuffer in bytes only for binary output.
    encoding: 'buffer',
    maxBuffer: maxOutputBytes,
    env: opts.env,
  });
  const failure = describeFailure(opts, result, maxOutputBytes);
  return {
    exitCode: result.exitCode,
    stdout: decode(result.stdout),
    stderr: decode(result.stderr),
    timedOut: result.timedOut,
    truncated: result.isMaxBuffer,
    failed: result.failed,
    ...(failure === undefined ? {} : { error: failure }),
  };
}

function validateRunOptions(opts: RunCommandOptions): void {
  if (typeof opts.file !== 'string' || !path.isAbsolute(opts.file)) {
    throw new Error(`runCommand: file must be an absolute path, got ${JSON.stringify(opts.file)}`);
  }
  assertSafeText(opts.file, 'file');
  if (!Array.isArray(opts.args)) throw new Error('runCommand: args must be an array of strings');
  opts.args.forEach((arg, index) => {
    if (typeof arg !== 'string') throw new Error(`runCommand: argument ${index} must be a string, got ${typeof arg}`);
    assertSafeText(arg, `argument ${index}`);
  });
  for (const [key, value] of Object.entries(opts.env ?? {})) {
    if (typeof value !== 'string' || value.includes('\0') || key.includes('\0') || key.includes('=')) {
      throw new Error(`runCommand: environment variable ${JSON.stringify(key)} must be a name without '=' or NUL and a string value without NUL`);
    }
  }
  if (!(Number.isFinite(opts.timeoutMs) && opts.timeoutMs > 0)) {
    throw new Error(`runCommand: timeoutMs must be a positive number, got ${String(opts.timeoutMs)}`);
  }
  if (opts.maxOutputBytes !== undefined && !(Number.isInteger(opts.maxOutputBytes) && opts.maxOutputBytes > 0)) {
    throw new Error(`runCommand: maxOutputBytes must be a positive integer, got ${String(opts.maxOutputBytes)}`);
  }
}

/** NUL cannot travel in argv, and a line break in an argument is almost surely a config mistake. */
function assertSafeText(text: string, what: string): void {
  const bad = text.includes('\0') ? 'a NUL character' : /[\r\n]/.test(text) ? 'a line break' : undefined;
  if (bad !== undefined) {
    const shown = JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
    throw new Error(`runCommand: ${what} contains ${bad}: ${shown}`);
  }
}

function decode(output: unknown): string {
  if (output instanceof Uint8Array) return new TextDecoder('utf-8').decode(output);
  return typeof output === 'string' ? output : '';
}

interface ExecaOutcome {
  failed: boolean;
  exitCode?: number;
  signal?: string;
  timedOut: boolean;
  isCanceled: boolean;
  isMaxBuffer: boolean;
  code?: string;
}

/** One sentence naming the program; spawn errors name the full path, which is what to fix. */
function describeFailure(opts: RunCommandOptions, result: ExecaOutcome, maxOutputBytes: number): string | undefined {
  if (!result.failed) return undefined;
  const program = path.basename(opts.file);
  if (result.timedOut) return `${program} timed out after ${opts.timeoutMs} ms`;
  if (result.isCanceled) return `${program} was cancelled before it finished`;
  if (result.isMaxBuffer) return `${program} stopped: output exceeded ${maxOutputBytes} bytes`;
  if (result.exitCode !== undefined) return `${program} exited with code ${result.exitCode}`;
  if (result.signal !== undefined) return `${program} killed by ${result.signal}`;
  if (result.code === 'ENOENT') return `${opts.file} not found`;
  if (result.code === 'EACCES') return `${opts.file} is not executable (EACCES)`;
  return `${opts.file} could not be started (${result.code ?? 'unknown error'})`;
}
