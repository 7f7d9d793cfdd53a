import { afterEach, describe, expect, test } from '@jest/globals';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { coreFileName, findCoreFiles, parseCorePattern, readCorePattern } from '../../../src/snapshot/coreFiles.js';
import { TempDirs, writeFiles } from './procFixture.js';

const temp = new TempDirs();
afterEach(() => temp.removeAll());

async function procWithPattern(pattern: string): Promise<string> {
  return temp.procRoot({ 'sys/kernel/core_pattern': `${pattern}\n` });
}

describe('parseCorePattern', () => {
  test('a pipe: cores go to the handler program', () => {
    expect(parseCorePattern('|/usr/lib/systemd/systemd-coredump %P %u %g %s %t %c %h\n')).toEqual({
      kind: 'piped',
      handler: '/usr/lib/systemd/systemd-coredump',
    });
    expect(parseCorePattern('|/usr/share/apport/apport -p%p -s%s -c%c -d%d -P%P -u%u -g%g -- %E\n')).toEqual({
      kind: 'piped',
      handler: '/usr/share/apport/apport',
    });
  });

  test('an absolute pattern: one directory, names from the pattern', () => {
    expect(parseCorePattern('/var/crash/core.%e.%p\n')).toEqual({ kind: 'absolute', dir: '/var/crash', name: /^core\.[^/]+\.\d+$/ });
  });

  test('an absolute pattern may be made of specifiers alone: its directory holds nothing but cores', () => {
    expect(parseCorePattern('/var/cores/%e.%p\n')).toEqual({ kind: 'absolute', dir: '/var/cores', name: /^[^/]+\.\d+$/ });
  });

  test('a relative pattern: the crashing process working directory', () => {
    expect(parseCorePattern('core\n')).toEqual({ kind: 'relative', dir: '.', name: /^core(\.\d+)?$/ });
    expect(parseCorePattern('cores/core.%p\n')).toEqual({ kind: 'relative', dir: 'cores', name: /^core\.\d+$/ });
    expect(parseCorePattern('%%core\n')).toEqual({ kind: 'relative', dir: '.', name: /^%core(\.\d+)?$/ });
  });

  test('a directory that varies per process, or names without fixed text, cannot be counted', () => {
    expect(parseCorePattern('/var/cores/%e/core.%p\n')).toEqual({
      kind: 'uncountable',
      reason: 'core dump directory varies per process (/var/cores/%e/core.%p)',
    });
    expect(parseCorePattern('%e.%p\n')).toEqual({
      kind: 'uncountable',
      reason: 'core file names (%e.%p) cannot be told apart from other files',
    });
    expect(parseCorePattern('\n')).toEqual({ kind: 'uncountable', reason: 'core_pattern is empty' });
  });
});

describe('coreFileName', () => {
  test('`core` matches core and core.<pid> (kernel.core_uses_pid), nothing else', () => {
    const name = coreFileName('core');
    expect(['core', 'core.1234'].filter((n) => name.test(n))).toEqual(['core', 'core.1234']);
    expect(['core.xml', 'corestuff', 'score', 'core.12a'].some((n) => name.test(n))).toBe(false);
  });

  test('`core.%p` matches core.<pid> only', () => {
    const name = coreFileName('core.%p');
    expect(name.test('core.1234')).toBe(true);
    expect(name.test('core')).toBe(false);
  });

  test('specifiers: numeric ones are digits, names are any text without a slash, %% is a percent sign', () => {
    const name = coreFileName('core-%e-%p-%t%%');
    expect(name.test('core-nlserver-4242-1700000000%')).toBe(true);
    expect(name.test('core-nlserver-pid-1700000000%')).toBe(false);
  });

  test('dots and other regex characters are literal', () => {
    expect(coreFileName('core.%p').test('coreX1234')).toBe(false);
  });

  test('many name specifiers cannot make a file-name test backtrack for minutes (fuzz counterexample)', () => {
    // Found by test/fuzz/system.test.ts: `core.%e.%e...` (20 times) gave /^core\.[^/]+\.[^/]+.../ and a name
    // failing at its last character took minutes. From the first name specifier to the last is one [^/]+ now.
    const name = coreFileName(`core${'.%e'.repeat(20)}`);
    expect(name.source).toBe('^core\\.[^/]+(\\.\\d+)?$');
    const started = performance.now();
    expect(name.test(`core${'.a'.repeat(60)}/`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(name.test(`core${'.a'.repeat(20)}`)).toBe(true);
    // Adjacent numeric specifiers are one run of digits; the usual patterns keep their exact regex.
    expect(coreFileName('core.%p%t%s').source).toBe('^core\\.\\d{3,}$');
    expect(coreFileName('core.%e.%h.%p').source).toBe('^core\\.[^/]+\\.\\d+$');
  });

  test('a core_pattern far longer than the kernel keeps is uncountable, not a regex too large to compile', () => {
    expect(parseCorePattern(`/var/crash/${'0'.repeat(100_000)}`)).toEqual({
      kind: 'uncountable',
      reason: 'core_pattern is 100011 characters long, not a pattern the kernel writes',
    });
  });
});

describe('findCoreFiles', () => {
  test('piped cores are not counted', async () => {
    const procRoot = await procWithPattern('|/usr/lib/systemd/systemd-coredump %P %u %g %s %t %c %h');
    expect(await findCoreFiles({ procRoot, installDir: '/nonexistent' })).toEqual({ kind: 'piped', handler: '/usr/lib/systemd/systemd-coredump' });
  });

  test('absolute pattern: counts the matching regular files of its directory', async () => {
    const crash = await temp.make('crash-');
    await writeFiles(crash, { 'core.nlserver.4242': 'x', 'core.java.77': 'x', 'notes.txt': 'x', 'core.nlserver.9.gz': 'x' });
    await mkdir(path.join(crash, 'core.dir.1'));
    const procRoot = await procWithPattern(`${crash}/core.%e.%p`);
    expect(await findCoreFiles({ procRoot, installDir: '/nonexistent' })).toEqual({
      kind: 'counted',
      dirs: [crash],
      files: [path.join(crash, 'core.java.77'), path.join(crash, 'core.nlserver.4242')],
    });
  });

  test('relative pattern: counts core and core.<pid> in the install dir and in the extra dirs', async () => {
    const installDir = await temp.make('nl6-');
    const extra = await temp.make('cores-');
    await writeFiles(installDir, { core: 'x', 'core.1234': 'x', 'customer.sh': 'x', 'conf/core.5': 'x' });
    await writeFiles(extra, { 'core.99': 'x', 'core.txt': 'x' });
    const procRoot = await procWithPattern('core');
    expect(await findCoreFiles({ procRoot, installDir, extraDirs: [extra, installDir] })).toEqual({
      kind: 'counted',
      dirs: [installDir, extra],
      files: [path.join(extra, 'core.99'), path.join(installDir, 'core'), path.join(installDir, 'core.1234')].sort(),
    });
  });

  test('no core files: counted, zero', async () => {
    const installDir = await temp.make('nl6-');
    const procRoot = await procWithPattern('core.%p');
    expect(await findCoreFiles({ procRoot, installDir })).toEqual({ kind: 'counted', dirs: [installDir], files: [] });
  });

  test('a directory that cannot be read fails naming it', async () => {
    const procRoot = await procWithPattern('core');
    const missing = path.join(await temp.make('nl6-'), 'missing');
    await expect(findCoreFiles({ procRoot, installDir: missing })).rejects.toThrow(
      `cannot read core directory ${missing}: no such file or directory (ENOENT)`,
    );
  });

  test('a missing core_pattern fails naming it', async () => {
    const procRoot = await temp.procRoot({});
    await expect(readCorePattern(procRoot)).rejects.toThrow(`cannot read ${path.join(procRoot, 'sys/kernel/core_pattern')}`);
  });

  test('the real core_pattern parses', async () => {
    expect(['piped', 'absolute', 'relative', 'uncountable']).toContain((await readCorePattern()).kind);
  });
});
