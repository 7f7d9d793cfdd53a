// Shared by the faults*.test.ts files: the daemon started for real (like helpers.ts' Daemon) but with
// what fault tests need besides: its pid (to read its memory), its stderr sent anywhere (a file
// descriptor on /dev/full), and small readers for the row fields the fault tests compare.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { CLI, waitFor, type StatusDoc, type StatusModule } from './helpers.js';

export interface FullStatusModule extends StatusModule {
  since: string;
  lastRun: string | null;
  checks: { name: string; labels?: Record<string, string>; state: string; message: string; durationMs: number; lastRun: string }[];
}
export interface FullStatusDoc extends StatusDoc {
  generatedAt: string;
  modules: FullStatusModule[];
}

export interface FaultDaemonOptions {
  /** Where the daemon's stderr goes: a file opened for writing (e.g. /dev/full); default: captured. */
  stderrFile?: string;
  /** Working directory of the daemon (relative paths a program opens resolve there). */
  cwd?: string;
  healthyWithinMs?: number;
}

/** `campaign-health run --config FILE`, spawned without a shell, fds chosen by the test. */
export class FaultDaemon {
  private exit?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exited?: { code: number | null; signal: NodeJS.Signals | null };
  private captured = '';

  private constructor(private readonly child: ChildProcess, readonly baseUrl: string) {
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve((this.exited = { code, signal }))));
    child.stdout?.on('data', (chunk: Buffer) => (this.captured += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.captured += chunk.toString()));
  }

  static async start(configFile: string, options: FaultDaemonOptions = {}): Promise<FaultDaemon> {
    const { listen } = YAML.parse(await readFile(configFile, 'utf8')) as { listen: string };
    const stderrFd = options.stderrFile === undefined ? undefined : openSync(options.stderrFile, 'w');
    const env = { ...process.env };
    // jest's --experimental-vm-modules is not for the daemon.
    delete env.NODE_OPTIONS;
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [CLI, 'run', '--config', configFile], {
        stdio: ['ignore', 'pipe', stderrFd ?? 'pipe'],
        cwd: options.cwd,
        env,
      });
    } finally {
      // The child holds its own copy of the descriptor.
      if (stderrFd !== undefined) closeSync(stderrFd);
    }
    const daemon = new FaultDaemon(child, `http://${listen}`);
    await waitFor(
      async () => {
        if (daemon.exited) throw new Error(`daemon exited (${JSON.stringify(daemon.exited)}) before it was healthy:\n${daemon.output()}`);
        return (await fetch(`${daemon.baseUrl}/healthz`).catch(() => undefined))?.status === 200;
      },
      options.healthyWithinMs ?? 30_000,
      () => `daemon never became healthy:\n${daemon.output()}`,
    );
    return daemon;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** stdout and (when not redirected) stderr so far. */
  output(): string {
    return this.captured;
  }

  /** Whether the process still runs. */
  alive(): boolean {
    return this.exited === undefined;
  }

  async status(): Promise<FullStatusDoc> {
    return (await (await fetch(`${this.baseUrl}/status`)).json()) as FullStatusDoc;
  }

  async get(pathname: string): Promise<{ status: number; type: string; body: string }> {
    const response = await fetch(`${this.baseUrl}${pathname}`);
    return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.text() };
  }

  async statusWhen(accept: (doc: FullStatusDoc) => boolean, timeoutMs = 30_000): Promise<FullStatusDoc> {
    let last: FullStatusDoc | undefined;
    await waitFor(async () => accept((last = await this.status())), timeoutMs, () => `status never matched; last:\n${JSON.stringify(last, null, 1)}`);
    return last!;
  }

  /** Resident memory of the daemon process in bytes, from /proc/<pid>/status (VmRSS). */
  async rssBytes(): Promise<number> {
    const text = await readFile(`/proc/${this.pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
    if (!match) throw new Error(`no VmRSS in /proc/${this.pid}/status`);
    return Number(match[1]) * 1024;
  }

  /** SIGTERM, then the exit code, or the signal that ended it (SIGKILL after 10 s if it does not stop). */
  async stop(): Promise<number | string> {
    if (!this.exited) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exit;
      clearTimeout(timer);
    }
    const { code, signal } = this.exited!;
    return code ?? `killed by ${signal}`;
  }
}

export function findRow(doc: FullStatusDoc, module: string, instance = 'default'): FullStatusModule {
  const found = doc.modules.find((entry) => entry.module === module && entry.instance === instance);
  if (!found) throw new Error(`no row ${module}@${instance} in ${JSON.stringify(doc.modules.map((entry) => `${entry.module}@${entry.instance}`))}`);
  return found;
}

/** A check of a row by name and, for checks that have their own labels (`redir_instance`), by those. */
export function findCheck(doc: FullStatusDoc, module: string, name: string, instance = 'default', labels?: Record<string, string>) {
  const found = findRow(doc, module, instance).checks.find((entry) => entry.name === name && (labels === undefined || JSON.stringify(entry.labels) === JSON.stringify(labels)));
  if (!found) throw new Error(`no check ${name}${labels ? JSON.stringify(labels) : ''} in ${module}@${instance}: ${JSON.stringify(findRow(doc, module, instance))}`);
  return found;
}

/** ms since the epoch of a row's lastRun (0 before the first run). */
export function lastRunMs(doc: FullStatusDoc, module: string, instance = 'default'): number {
  const value = findRow(doc, module, instance).lastRun;
  return value === null ? 0 : Date.parse(value);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
