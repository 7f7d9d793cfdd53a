import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isModuleProcess, processCheck } from '../../../src/checks/process.js';
import { parseCmdline } from '../../../src/snapshot/processes.js';
import type { CheckContext, ProcessInfo } from '../../../src/core/contracts.js';
import { makeContext } from '../ctx.js';

/**
 * Fake nlserver processes: `<dir>/nlserver` is a symlink to node, so `nlserver web ...` makes node
 * run `./web.js` while /proc/<pid>/cmdline reads `<dir>/nlserver web ...`.
 */
class FakeNlserver {
  private constructor(readonly dir: string) {}
  private readonly children: ChildProcess[] = [];

  static async create(): Promise<FakeNlserver> {
    const dir = await mkdtemp(path.join(tmpdir(), 'nlserver-'));
    await symlink(process.execPath, path.join(dir, 'nlserver'));
    await writeFile(path.join(dir, 'package.json'), '{"type":"commonjs"}');
    for (const script of ['web', 'stop', 'watchdog', 'mta']) {
      await writeFile(path.join(dir, `${script}.js`), 'setInterval(() => {}, 1000);');
    }
    return new FakeNlserver(dir);
  }

  async start(args: string[]): Promise<ChildProcess> {
    const child = spawn(path.join(this.dir, 'nlserver'), args, { cwd: this.dir, stdio: 'ignore' });
    await once(child, 'spawn');
    this.children.push(child);
    return child;
  }

  async stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    // After 'exit' the child is reaped, so it is gone from /proc.
    await exited;
  }

  /**
   * A context whose process table is the real /proc, narrowed to the processes started from this
   * fake's directory: other suites (and a real Campaign host) run nlserver processes concurrently.
   */
  context(opts: { now?: () => number } = {}): CheckContext {
    const ctx = makeContext(opts);
    const real = ctx.snapshot;
    const mine = (p: ProcessInfo): boolean => p.argv[0]?.startsWith(`${this.dir}${path.sep}`) ?? false;
    return { ...ctx, snapshot: { ...real, processes: async () => (await real.processes()).filter(mine) } };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.children.map((c) => this.stop(c)));
    await rm(this.dir, { recursive: true, force: true });
  }
}

describe('processCheck against real processes', () => {
  let fake: FakeNlserver;
  let webDefault: ChildProcess;
  let webProd: ChildProcess;
  let stopWeb: ChildProcess;
  let watchdog: ChildProcess;

  beforeAll(async () => {
    fake = await FakeNlserver.create();
    webDefault = await fake.start(['web', '-tracefile:web@default', '-instance:default', '-detach', '-tomcat']);
    webProd = await fake.start(['web', '-tracefile:web@prod', '-instance:prod', '-detach', '-tomcat']);
    stopWeb = await fake.start(['stop', 'web']);
    watchdog = await fake.start(['watchdog', '-svc', '-noconsole']);
  });

  afterAll(async () => {
    await fake.dispose();
  });

  test('the fake looks like nlserver in /proc', async () => {
    const seen = (await makeContext().snapshot.processes()).find((p) => p.pid === webDefault.pid);
    expect(seen?.argv).toEqual([path.join(fake.dir, 'nlserver'), 'web', '-tracefile:web@default', '-instance:default', '-detach', '-tomcat']);
  });

  test('finds web@default and only that process', async () => {
    const result = await processCheck({ module: 'web', instance: 'default' }).run(fake.context());
    expect(result.state).toBe('ok');
    expect(result.message).toMatch(new RegExp(`^web@default running \\(pid ${webDefault.pid}, up \\d+(ms|s)\\)$`));
    expect(result.values?.processes).toBe(1);
    expect(result.values?.uptime_seconds).toBeGreaterThanOrEqual(0);
  });

  test('reports uptime from the start time and the injected clock', async () => {
    const processes = await fake.context().snapshot.processes();
    const started = processes.find((p) => p.pid === webProd.pid)?.startedAtMs ?? Number.NaN;
    const ctx = fake.context({ now: () => started + (2 * 3600 + 3 * 60) * 1000 });
    const result = await processCheck({ module: 'web', instance: 'prod' }).run(ctx);
    expect(result).toEqual({
      state: 'ok',
      message: `web@prod running (pid ${webProd.pid}, up 2h 3m)`,
      values: { processes: 1, uptime_seconds: 7380 },
    });
  });

  test('another instance is not a match', async () => {
    const result = await processCheck({ module: 'web', instance: 'staging' }).run(fake.context());
    expect(result).toEqual({
      state: 'critical',
      message: "no 'nlserver web ... -instance:staging' process found",
      values: { processes: 0, uptime_seconds: 0 },
    });
  });

  test('without an instance, every web process counts', async () => {
    const result = await processCheck({ module: 'web' }).run(fake.context());
    const pids = [webDefault.pid, webProd.pid].sort((a, b) => (a ?? 0) - (b ?? 0));
    expect(result.message).toBe(`web running (2 processes, pids ${pids.join(',')})`);
    expect(result.values?.processes).toBe(2);
  });

  test("`nlserver stop web` is a command, not the stop module's process and not web", async () => {
    const stopProcess = (await fake.context().snapshot.processes()).find((p) => p.pid === stopWeb.pid);
    expect(stopProcess).toBeDefined();
    const result = await processCheck({ module: 'web' }).run(fake.context());
    expect(result.message).not.toContain(String(stopWeb.pid));
  });

  test('watchdog -svc -noconsole is found without an instance', async () => {
    const result = await processCheck({ module: 'watchdog', name: 'watchdog_process' }).run(fake.context());
    expect(result.message).toMatch(new RegExp(`^watchdog running \\(pid ${watchdog.pid}, up `));
  });

  test('a killed process makes the check critical', async () => {
    const mta = await fake.start(['mta', '-tracefile:mta@prod', '-instance:prod', '-detach']);
    const check = processCheck({ module: 'mta', instance: 'prod' });
    expect((await check.run(fake.context())).state).toBe('ok');
    await fake.stop(mta);
    expect(await check.run(fake.context())).toEqual({
      state: 'critical',
      message: "no 'nlserver mta ... -instance:prod' process found",
      values: { processes: 0, uptime_seconds: 0 },
    });
  });
});

function proc(cmdline: string, extra: Partial<ProcessInfo> = {}): ProcessInfo {
  const argv = parseCmdline(cmdline);
  return { pid: 10, ppid: 1, argv, comm: path.basename(argv[0] ?? ''), startedAtMs: 0, rssBytes: 0, stateLetter: 'S', ...extra };
}

describe('isModuleProcess on documented command lines', () => {
  test.each([
    ['nlserver web -tracefile:web@default -instance:default -detach -tomcat -autorepair', 'web', 'default', true],
    ['/usr/local/neolane/nl6/bin/nlserver mta -tracefile:mta@prod -instance:prod -detach', 'mta', 'prod', true],
    ['nlserver mta -tracefile:mta@prod -detach', 'mta', 'prod', true],
    ['nlserver mta -instance:prod -detach', 'mta', 'prod', true],
    ['nlserver mta -tracefile:mta@prod -instance:prod -detach', 'mta', 'prodx', false],
    ['nlserver mta -tracefile:mta@prod -instance:prod -detach', 'mta', 'pro', false],
    ['nlserver watchdog -svc -noconsole', 'watchdog', undefined, true],
    ['nlserver inMail -tracefile:inMail@prod -instance:prod -detach', 'inMail', 'prod', true],
    ['nlserver inMail -tracefile:inMail@prod -instance:prod -detach', 'inmail', 'prod', false],
    ['nlserver pdump', 'web', undefined, false],
    ['nlserver stop web', 'web', undefined, false],
    ['nlserver restart mta@prod', 'mta', 'prod', false],
    ['nlserver mtachild -tracefile:mta@prod -instance:prod', 'mta', 'prod', false],
    ['/usr/bin/grep nlserver web', 'web', undefined, false],
    ['/opt/nlserver-tools/web -instance:default', 'web', 'default', false],
  ])('%s as %s@%s: %s', (cmdline, module, instance, expected) => {
    expect(isModuleProcess(proc(cmdline.replaceAll(' ', '\0')), module, instance)).toBe(expected);
  });

  test('a rewritten title (one string with spaces) still matches', () => {
    expect(isModuleProcess(proc('nlserver web -tracefile:web@default -instance:default\0\0'), 'web', 'default')).toBe(true);
  });

  test('comm nlserver with a path-less argv[0] that is not nlserver still matches', () => {
    expect(isModuleProcess(proc('nlserver.bin\0web\0-instance:default', { comm: 'nlserver' }), 'web', 'default')).toBe(true);
  });
});

describe('processCheck on a given process table', () => {
  function contextWith(processes: ProcessInfo[]) {
    const ctx = makeContext();
    return { ...ctx, snapshot: { ...ctx.snapshot, processes: async () => processes } };
  }

  test('a zombie does not count as running, and the message says it was seen', async () => {
    const zombie = proc('nlserver\0web\0-instance:default', { pid: 77, stateLetter: 'Z' });
    const result = await processCheck({ module: 'web', instance: 'default' }).run(contextWith([zombie]));
    expect(result).toEqual({
      state: 'critical',
      message: "no 'nlserver web ... -instance:default' process found (only zombie: pid 77)",
      values: { processes: 0, uptime_seconds: 0 },
    });
  });

  test('with several processes the youngest gives the uptime', async () => {
    const now = 1_000_000_000;
    const older = proc('nlserver\0web\0-instance:default', { pid: 5, startedAtMs: now - 3_600_000 });
    const younger = proc('nlserver\0web\0-instance:default', { pid: 6, startedAtMs: now - 60_000 });
    const ctx = { ...contextWith([younger, older]), now: () => now };
    expect(await processCheck({ module: 'web', instance: 'default' }).run(ctx)).toEqual({
      state: 'ok',
      message: 'web@default running (2 processes, pids 5,6)',
      values: { processes: 2, uptime_seconds: 60 },
    });
  });

  test('a start time ahead of the clock gives uptime 0, not a negative one', async () => {
    const ctx = { ...contextWith([proc('nlserver\0watchdog\0-svc', { startedAtMs: 5000 })]), now: () => 4000 };
    const result = await processCheck({ module: 'watchdog' }).run(ctx);
    expect(result.values?.uptime_seconds).toBe(0);
  });

  test('rejects a module name that could not appear as an nlserver argument', () => {
    expect(() => processCheck({ module: 'web -instance:x' })).toThrow('module must be a Campaign module name');
  });
});
