import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCycleSnapshot, nlserverProcesses } from '../../../src/snapshot/cycle.js';
import { ProcessCache, parseBootTimeMs, parseCmdline, parseStat, QUIET_REREAD_PASSES, readProcesses } from '../../../src/snapshot/processes.js';
import { until } from '../../sim/net-util.js';

/** A stat line as the kernel prints it; `comm` and the fields that matter are parameters. */
function statLine(o: {
  pid: number;
  comm: string;
  state?: string;
  ppid?: number;
  flags?: number;
  start?: number;
  rss?: number;
  args?: [number, number];
}): string {
  // Fields 3..24 of proc(5): state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
  // utime stime cutime cstime priority nice threads itrealvalue starttime vsize rss
  const fields = [o.state ?? 'S', o.ppid ?? 1, 1, 1, 0, -1, o.flags ?? 4194560, 0, 0, 0, 0, 1, 1, 0, 0, 20, 0, 1, 0, o.start ?? 0, 1000, o.rss ?? 0];
  // Fields 25..52: rsslim ... arg_start (48) arg_end (49) env_start env_end exit_code.
  const rest = ['18446744073709551615', ...Array<number>(22).fill(0), o.args?.[0] ?? 0, o.args?.[1] ?? 0, 0, 0, 0];
  return `${o.pid} (${o.comm}) ${fields.join(' ')} ${rest.join(' ')}\n`;
}

describe('parseStat', () => {
  test('reads comm up to the last parenthesis, even with spaces and parentheses inside', () => {
    const stat = parseStat(statLine({ pid: 4242, comm: 'my (odd) ) proc', state: 'Z', ppid: 17, start: 12345, rss: 250 }));
    expect(stat).toEqual({ pid: 4242, comm: 'my (odd) ) proc', stateLetter: 'Z', ppid: 17, flags: 4194560, startTimeTicks: 12345, rssPages: 250, argStart: 0, argEnd: 0 });
  });

  test('reads where argv lives (fields 48, 49), and 0 from a kernel that does not print them', () => {
    expect(parseStat(statLine({ pid: 7, comm: 'x', args: [140723, 140790] }))).toMatchObject({ argStart: 140723, argEnd: 140790 });
    expect(parseStat('7 (x) S 1 1 1 0 -1 4194560 0 0 0 0 1 1 0 0 20 0 1 0 5 1000 3 18446744073709551615\n')).toMatchObject({ argStart: 0, argEnd: 0 });
  });

  test('rejects text that is not a stat line, saying what it expected', () => {
    expect(() => parseStat('hello world')).toThrow(/expected "pid \(comm\) state/);
  });

  test('rejects a line cut short, naming the field count', () => {
    expect(() => parseStat('12 (x) S 1 2')).toThrow(/expected at least 9/);
  });

  test('a field that is not a whole number is rejected, not read as NaN (fuzz counterexample)', () => {
    // Found by test/fuzz/snapshot.test.ts: the `)` inside comm shifted the fields, ppid came out NaN.
    expect(() => parseStat('1 ()! R 0 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 0 1000 0 18446744073709551615 0 0 0\n')).toThrow(
      '/proc/<pid>/stat ppid (field 4) is not a whole number: "R"',
    );
    expect(() => parseStat(statLine({ pid: 0, comm: 'x' }))).toThrow('/proc/<pid>/stat pid is 0, expected a positive number');
    expect(() => parseStat(`x${statLine({ pid: 12, comm: 'x' })}`)).toThrow('/proc/<pid>/stat pid is not a whole number: "x12"');
  });
});

describe('parseBootTimeMs', () => {
  test('a btime of 400 digits is no btime, not Infinity (fuzz counterexample)', () => {
    expect(parseBootTimeMs('cpu 1 2 3\nbtime 1700000000\n')).toBe(1_700_000_000_000);
    expect(() => parseBootTimeMs(`btime ${'9'.repeat(400)}\n`)).toThrow('no "btime" line in /proc/stat');
  });
});

describe('parseCmdline', () => {
  test('splits on NUL and drops the trailing terminator', () => {
    expect(parseCmdline('nlserver\0web\0-instance:default\0')).toEqual(['nlserver', 'web', '-instance:default']);
  });

  test('keeps spaces inside a NUL-separated argument', () => {
    expect(parseCmdline('/bin/echo\0a b\0')).toEqual(['/bin/echo', 'a b']);
  });

  test('splits a rewritten title (one string padded with NULs) on whitespace', () => {
    expect(parseCmdline('nlserver web -tracefile:web@default  \0\0\0')).toEqual(['nlserver', 'web', '-tracefile:web@default']);
  });

  test('empty cmdline is an empty argv', () => {
    expect(parseCmdline('')).toEqual([]);
  });
});

describe('readProcesses on the real /proc', () => {
  let child: ChildProcess;
  const marker = `chk-marker-${process.pid}-${Date.now()}`;
  let spawnedAtMs: number;

  beforeAll(async () => {
    spawnedAtMs = Date.now();
    child = spawn(process.execPath, ['-e', 'setTimeout(()=>{},10000)', marker, 'second arg'], { stdio: 'ignore' });
    // 'spawn' fires after exec succeeded, so /proc/<pid>/cmdline already shows the new program.
    await once(child, 'spawn');
  });

  afterAll(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill();
      await once(child, 'exit');
    }
  });

  test('sees the spawned child with its pid, parent, argv and start time', async () => {
    const processes = await readProcesses();
    const found = processes.find((p) => p.argv.includes(marker));
    expect(found).toBeDefined();
    expect(found?.pid).toBe(child.pid);
    expect(found?.ppid).toBe(process.pid);
    expect(found?.argv).toEqual([process.execPath, '-e', 'setTimeout(()=>{},10000)', marker, 'second arg']);
    expect(found?.stateLetter).toMatch(/^[RSD]$/);
    expect(found?.rssBytes).toBeGreaterThan(0);
    // btime has 1 s resolution and ticks 10 ms: the start time is right to within about a second.
    expect(found?.startedAtMs).toBeGreaterThan(spawnedAtMs - 2000);
    expect(found?.startedAtMs).toBeLessThan(Date.now() + 2000);
  });

  test('with a cache, a process that execs the same program with other arguments shows its new argv', async () => {
    // bash stays bash (same pid, same comm); only the arguments and where they live change. It execs
    // when told (a line on stdin), after the first read, however fast or slow the machine.
    const execing = spawn('bash', ['-c', 'read -r; exec bash -c "sleep 5; true" exec-marker'], { stdio: ['pipe', 'ignore', 'ignore'] });
    await once(execing, 'spawn');
    try {
      const cache = new ProcessCache();
      const before = (await readProcesses('/proc', cache)).find((p) => p.pid === execing.pid);
      expect(before?.argv[2]).toBe('read -r; exec bash -c "sleep 5; true" exec-marker');
      execing.stdin!.end('go\n');
      // The exec has happened (the kernel says so), then the cached read.
      await until(() => readFileSync(`/proc/${execing.pid}/cmdline`, 'utf8') === 'bash\0-c\0sleep 5; true\0exec-marker\0', 'the exec');
      const after = (await readProcesses('/proc', cache)).find((p) => p.pid === execing.pid);
      expect(after?.comm).toBe(before?.comm);
      expect(after?.argv).toEqual(['bash', '-c', 'sleep 5; true', 'exec-marker']);
    } finally {
      execing.kill('SIGKILL');
    }
  });

  test('sees this test process itself, with its parent', async () => {
    const self = (await readProcesses()).find((p) => p.pid === process.pid);
    expect(self?.ppid).toBe(process.ppid);
  });
});

describe('readProcesses on a prepared proc tree', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'proc-'));
    await writeFile(path.join(root, 'stat'), 'cpu  1 2 3\nbtime 1700000000\nprocesses 10\n');
    const entry = async (pid: number, stat: string, cmdline: string | undefined): Promise<void> => {
      await mkdir(path.join(root, String(pid)));
      await writeFile(path.join(root, String(pid), 'stat'), stat);
      if (cmdline !== undefined) await writeFile(path.join(root, String(pid), 'cmdline'), cmdline);
    };
    await entry(100, statLine({ pid: 100, comm: 'nlserver', ppid: 1, start: 250, rss: 3 }), 'nlserver\0web\0-instance:default\0');
    // A kernel thread: PF_KTHREAD (0x00200000) in flags, empty cmdline.
    await entry(2, statLine({ pid: 2, comm: 'kthreadd', flags: 0x00208040 }), '');
    // A zombie: empty cmdline too, but a user process.
    await entry(300, statLine({ pid: 300, comm: 'nlserver', state: 'Z', ppid: 100 }), '');
    // Vanished between readdir and read: the directory exists, its files do not.
    await mkdir(path.join(root, '400'));
    await mkdir(path.join(root, 'self'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('computes start time and RSS, skips kernel threads and vanished pids, keeps zombies', async () => {
    const processes = (await readProcesses(root)).sort((a, b) => a.pid - b.pid);
    expect(processes).toEqual([
      {
        pid: 100,
        ppid: 1,
        argv: ['nlserver', 'web', '-instance:default'],
        comm: 'nlserver',
        startedAtMs: 1700000000 * 1000 + 2500,
        rssBytes: 3 * 4096,
        stateLetter: 'S',
      },
      { pid: 300, ppid: 100, argv: [], comm: 'nlserver', startedAtMs: 1700000000 * 1000, rssBytes: 0, stateLetter: 'Z' },
    ]);
  });

  test('a second pass takes command lines from the cache; a pid reused, an exec or a new comm reads them again', async () => {
    const tree = await mkdtemp(path.join(tmpdir(), 'proc-'));
    await writeFile(path.join(tree, 'stat'), 'btime 1700000000\n');
    const write = async (pid: number, stat: string, cmdline: string): Promise<void> => {
      await mkdir(path.join(tree, String(pid)), { recursive: true });
      await writeFile(path.join(tree, String(pid), 'stat'), stat);
      await writeFile(path.join(tree, String(pid), 'cmdline'), cmdline);
    };
    await write(10, statLine({ pid: 10, comm: 'java', start: 5, args: [1000, 1040] }), 'java\0-jar\0app.jar\0');
    await write(11, statLine({ pid: 11, comm: 'nlserver', start: 6 }), 'nlserver\0mta\0-instance:prod\0');
    await write(12, statLine({ pid: 12, comm: 'sleep', start: 7 }), 'sleep\x00100\0');
    const cache = new ProcessCache();
    const argvOf = async (): Promise<Record<number, string[]>> =>
      Object.fromEntries((await readProcesses(tree, cache)).map((p) => [p.pid, p.argv]));

    expect(await argvOf()).toEqual({ 10: ['java', '-jar', 'app.jar'], 11: ['nlserver', 'mta', '-instance:prod'], 12: ['sleep', '100'] });
    expect(cache.reads).toBe(3);
    // Unchanged: nothing is read again, nlserver processes included.
    expect(await argvOf()).toMatchObject({ 10: ['java', '-jar', 'app.jar'], 11: ['nlserver', 'mta', '-instance:prod'] });
    expect(cache.reads).toBe(0);

    // pid 10 exec'd (same comm, argv elsewhere), pid 12 exited and its pid was reused, 11 is unchanged.
    await write(10, statLine({ pid: 10, comm: 'java', start: 5, args: [2000, 2030] }), 'java\0-version\0');
    await write(12, statLine({ pid: 12, comm: 'sleep', start: 900 }), 'sleep\x00200\0');
    expect(await argvOf()).toEqual({
      10: ['java', '-version'],
      11: ['nlserver', 'mta', '-instance:prod'],
      12: ['sleep', '200'],
    });
    expect(cache.reads).toBe(2);

    // A process whose comm changed (an exec of another program) is read again too.
    await write(12, statLine({ pid: 12, comm: 'nlserver', start: 900 }), 'nlserver\0web\0');
    expect((await argvOf())[12]).toEqual(['nlserver', 'web']);
    await rm(tree, { recursive: true, force: true });
  });

  test('the snapshot lists the nlserver processes once per cycle, zombies included, others left out', async () => {
    await writeFile(path.join(root, 'stat'), 'cpu  1 2 3\nbtime 1700000000\nprocesses 10\n');
    await mkdir(path.join(root, '500'), { recursive: true });
    await writeFile(path.join(root, '500', 'stat'), statLine({ pid: 500, comm: 'java' }));
    await writeFile(path.join(root, '500', 'cmdline'), 'java\0-jar\0tomcat.jar\0');
    try {
      const snapshot = createCycleSnapshot({ procRoot: root });
      const [first, second] = await Promise.all([nlserverProcesses(snapshot), nlserverProcesses(snapshot)]);
      expect(second).toBe(first);
      expect(first.map((p) => p.pid).sort()).toEqual([100, 300]);
      // A snapshot whose processes() was replaced (as tests do) is judged on what it returns.
      const replaced = { ...snapshot, processes: async () => (await snapshot.processes()).filter((p) => p.pid !== 100) };
      expect((await nlserverProcesses(replaced)).map((p) => p.pid)).toEqual([300]);
    } finally {
      await rm(path.join(root, '500'), { recursive: true, force: true });
    }
  });

  test('quiet processes (old, not nlserver, not its child) are checked through comm, and read in full again', async () => {
    const tree = await mkdtemp(path.join(tmpdir(), 'proc-'));
    await writeFile(path.join(tree, 'stat'), 'btime 1700000000\n');
    const write = async (pid: number, o: Parameters<typeof statLine>[0], cmdline: string): Promise<void> => {
      await mkdir(path.join(tree, String(pid)), { recursive: true });
      await writeFile(path.join(tree, String(pid), 'stat'), statLine(o));
      await writeFile(path.join(tree, String(pid), 'comm'), `${o.comm}\n`);
      await writeFile(path.join(tree, String(pid), 'cmdline'), cmdline);
    };
    // Started in 2023 (btime): all old. 20 is nlserver, 21 its child, 22 and 23 nothing to Campaign.
    await write(20, { pid: 20, comm: 'nlserver', start: 5 }, 'nlserver\0mta\0-instance:prod\0');
    await write(21, { pid: 21, comm: 'sh', ppid: 20, start: 6 }, 'sh\0-c\0true\0');
    await write(22, { pid: 22, comm: 'java', start: 7 }, 'java\0-jar\0app.jar\0');
    await write(23, { pid: 23, comm: 'sleep', start: 8 }, 'sleep\x00100\0');
    const cache = new ProcessCache();
    const table = async (): Promise<Record<number, { argv: readonly string[]; state: string }>> =>
      Object.fromEntries((await readProcesses(tree, cache)).map((p) => [p.pid, { argv: p.argv, state: p.stateLetter }]));
    try {
      await table();
      expect(cache.quiet).toBe(0);
      // Second pass: java and sleep by their comm only; nlserver and its child in full.
      await table();
      expect(cache.quiet).toBe(2);
      // sleep turns into a zombie: not seen at once (its stat is not read)...
      await write(23, { pid: 23, comm: 'sleep', start: 8, state: 'Z' }, '');
      expect((await table())[23]?.state).toBe('S');
      // ...but java exec'ing nlserver changes its comm: read in full at once.
      await write(22, { pid: 22, comm: 'nlserver', start: 7, args: [9, 99] }, 'nlserver\0web\0');
      const afterExec = await table();
      expect(afterExec[22]).toEqual({ argv: ['nlserver', 'web'], state: 'S' });
      // Within QUIET_REREAD_PASSES passes every quiet process is read in full again: the zombie shows.
      let seen = 'S';
      for (let pass = 0; pass < QUIET_REREAD_PASSES && seen !== 'Z'; pass++) seen = (await table())[23]?.state ?? 'gone';
      expect(seen).toBe('Z');
      // A process gone from the listing is gone from the table, quiet or not.
      await rm(path.join(tree, '21'), { recursive: true });
      expect(Object.keys(await table()).map(Number).sort()).toEqual([20, 22, 23]);
    } finally {
      await rm(tree, { recursive: true, force: true });
    }
  });

  test('fails clearly when /proc/stat has no boot time', async () => {
    const bad = await mkdtemp(path.join(tmpdir(), 'proc-'));
    await writeFile(path.join(bad, 'stat'), 'cpu 1 2 3\n');
    await expect(readProcesses(bad)).rejects.toThrow('no "btime" line in /proc/stat');
    await rm(bad, { recursive: true, force: true });
  });
});
