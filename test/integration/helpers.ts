import { expect } from '@jest/globals';
import { execa, type ResultPromise } from 'execa';
import path from 'node:path';
import { projectRoot } from '../../src/util/paths.js';

export const CLI = path.join(projectRoot(), 'dist', 'src', 'cli', 'main.js');

export interface CliResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as operators do (`npm test` builds dist/ first). */
export async function runCli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  const result = await execa(process.execPath, [CLI, ...args], { reject: false, timeout: timeoutMs, stdin: 'ignore' });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

export interface StatusModule {
  module: string;
  instance: string;
  state: string;
  detail: string;
  remediation: string;
  checks: { name: string; labels?: Record<string, string>; state: string; message: string }[];
  /** Checks that gave no verdict this run (could not look, or only count). */
  notLooked?: { name: string; labels?: Record<string, string>; message: string }[];
}
export interface StatusDoc {
  state: string;
  modules: StatusModule[];
}

export function row(doc: StatusDoc, module: string, instance = 'default'): StatusModule {
  const found = doc.modules.find((entry) => entry.module === module && entry.instance === instance);
  if (!found) throw new Error(`no row ${module}@${instance} in ${JSON.stringify(doc.modules.map((entry) => `${entry.module}@${entry.instance}`))}`);
  return found;
}

/** A check of a row by name and, for checks that have their own labels (`redir_instance`), by those. */
export function check(doc: StatusDoc, module: string, name: string, instance = 'default', labels?: Record<string, string>) {
  const found = row(doc, module, instance).checks.find((entry) => entry.name === name && (labels === undefined || JSON.stringify(entry.labels) === JSON.stringify(labels)));
  if (!found) throw new Error(`no check ${name}${labels ? JSON.stringify(labels) : ''} in ${module}@${instance}`);
  return found;
}

/** A check of a row that gave no verdict this run (listed under `notLooked`, never in `checks`). */
export function notLooked(doc: StatusDoc, module: string, name: string, instance = 'default') {
  const target = row(doc, module, instance);
  const found = target.notLooked?.find((entry) => entry.name === name);
  if (!found) throw new Error(`no not-looked check ${name} in ${module}@${instance}: checks ${JSON.stringify(target.checks.map((c) => c.name))}`);
  expect(target.checks.map((entry) => entry.name)).not.toContain(name);
  return found;
}

/** The daemon, started for real: `campaign-health run --config FILE`. */
export class Daemon {
  private constructor(private readonly child: ResultPromise, readonly baseUrl: string, readonly output: () => string) {}

  /** `ready` replaces the plain-HTTP /healthz poll (a daemon behind TLS or basic auth). */
  static async start(configFile: string, listen: string, ready?: () => Promise<boolean>): Promise<Daemon> {
    const child = execa(process.execPath, [CLI, 'run', '--config', configFile], { reject: false, stdin: 'ignore', all: true, buffer: false });
    let output = '';
    child.all?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const daemon = new Daemon(child, `http://${listen}`, () => output);
    const healthy = ready ?? (async () => (await fetch(`${daemon.baseUrl}/healthz`).catch(() => undefined))?.status === 200);
    await waitFor(() => healthy().catch(() => false), 30_000, () => `daemon never became healthy:\n${output}`);
    return daemon;
  }

  async status(): Promise<StatusDoc> {
    return (await (await fetch(`${this.baseUrl}/status`)).json()) as StatusDoc;
  }

  async get(pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: string }> {
    const response = await fetch(`${this.baseUrl}${pathname}`, { headers });
    return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.text() };
  }

  /** Polls /status until `accept` holds; returns the document that satisfied it. */
  async statusWhen(accept: (doc: StatusDoc) => boolean, timeoutMs = 30_000): Promise<StatusDoc> {
    let last: StatusDoc | undefined;
    await waitFor(async () => accept((last = await this.status())), timeoutMs, () => `status never matched; last:\n${JSON.stringify(last, null, 1)}`);
    return last!;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async stop(): Promise<number | undefined> {
    this.child.kill('SIGTERM');
    const result = await this.child;
    return result.exitCode;
  }
}

/** Milliseconds of a duration as the agent prints it (`1m 2s`, `3h`, `850ms`: src/checks/format.ts). */
export function durationMs(text: string): number {
  const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const parts = text.split(' ').map((part) => /^(\d+)(ms|s|m|h|d)$/.exec(part));
  if (parts.length === 0 || parts.some((match) => match === null)) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  return parts.reduce((sum, match) => sum + Number(match![1]) * UNITS[match![2]!]!, 0);
}

export async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(describe());
}
