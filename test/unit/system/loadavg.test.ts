import { afterEach, describe, expect, test } from '@jest/globals';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseCpuinfo, parseLoadavg, readCpuCount, readLoadavg } from '../../../src/snapshot/loadavg.js';
import { TempDirs } from './procFixture.js';

const temp = new TempDirs();
afterEach(() => temp.removeAll());

describe('loadavg', () => {
  test('reads the 1, 5 and 15 minute averages from a fixture /proc', async () => {
    const root = await temp.procRoot({ loadavg: '1.50 0.75 12.00 3/113 1744\n' });
    expect(await readLoadavg(root)).toEqual({ load1: 1.5, load5: 0.75, load15: 12 });
  });

  test('a malformed file fails naming the file and the expected format', () => {
    expect(() => parseLoadavg('1.5 high\n', '/proc/loadavg')).toThrow(
      '/proc/loadavg: expected three load averages such as "0.39 0.45 0.62 3/113 1744", got "1.5 high"',
    );
  });

  test('a load of 400 digits is malformed, not Infinity (fuzz counterexample)', () => {
    // Found by test/fuzz/system.test.ts: "0.39\n0.39 999...9" read as { load15: Infinity }.
    expect(() => parseLoadavg(`0.39\n0.39 ${'9'.repeat(400)}`, '/proc/loadavg')).toThrow(/^\/proc\/loadavg: expected three load averages/);
  });

  test('a missing file fails naming it', async () => {
    const root = await temp.procRoot({});
    await expect(readLoadavg(root)).rejects.toThrow(`cannot read ${path.join(root, 'loadavg')}: no such file or directory (ENOENT)`);
  });

  test('the real /proc/loadavg reads as three non-negative numbers', async () => {
    const load = await readLoadavg();
    for (const value of [load.load1, load.load5, load.load15]) expect(value).toBeGreaterThanOrEqual(0);
  });
});

describe('cpu count', () => {
  test('counts the processor entries of cpuinfo', async () => {
    const cpuinfo = ['processor\t: 0', 'model name\t: x', '', 'processor\t: 1', '', 'processor\t: 2', ''].join('\n');
    expect(parseCpuinfo(cpuinfo)).toBe(3);
    const root = await temp.procRoot({ cpuinfo });
    expect(await readCpuCount(root)).toBe(3);
  });

  test('falls back to the CPUs Node sees when cpuinfo is missing or lists no processor', async () => {
    expect(await readCpuCount(await temp.procRoot({}))).toBe(availableParallelism());
    expect(await readCpuCount(await temp.procRoot({ cpuinfo: 'vendor_id : IBM/S390\n' }))).toBe(availableParallelism());
  });

  test('the real host has at least one CPU', async () => {
    expect(await readCpuCount()).toBeGreaterThanOrEqual(1);
  });
});
