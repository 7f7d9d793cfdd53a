import { afterEach, describe, expect, test } from '@jest/globals';
import path from 'node:path';
import { parseMeminfo, readMeminfo } from '../../../src/snapshot/meminfo.js';
import { HEALTHY_PROC, TempDirs } from './procFixture.js';

const temp = new TempDirs();
afterEach(() => temp.removeAll());

const KIB = 1024;

describe('meminfo', () => {
  test('reads memory and swap in bytes from a fixture /proc', async () => {
    const root = await temp.procRoot({ meminfo: HEALTHY_PROC.meminfo! });
    expect(await readMeminfo(root)).toEqual({
      memTotalBytes: 16777216 * KIB,
      memAvailableBytes: 12582912 * KIB,
      swapTotalBytes: 4194304 * KIB,
      swapFreeBytes: 4194304 * KIB,
    });
  });

  test('without MemAvailable (kernels before 3.14), available is free + buffers + cached', () => {
    const text = 'MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 300 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n';
    expect(parseMeminfo(text, '/proc/meminfo').memAvailableBytes).toBe(420 * KIB);
  });

  test('a file without a needed line fails naming the file and the line', () => {
    expect(() => parseMeminfo('MemTotal: 1000 kB\nMemAvailable: 10 kB\n', '/x/meminfo')).toThrow(
      '/x/meminfo: expected a "SwapTotal: <n> kB" line, found none',
    );
    expect(() => parseMeminfo('garbage\n', '/x/meminfo')).toThrow('/x/meminfo: expected a "MemTotal: <n> kB" line, found none');
  });

  test('a value of 400 digits is no kernel value: not read as Infinity (fuzz counterexample)', () => {
    const text = `MemTotal: ${'9'.repeat(400)} kB\nMemAvailable: 10 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n`;
    expect(() => parseMeminfo(text, '/x/meminfo')).toThrow('/x/meminfo: expected a "MemTotal: <n> kB" line, found none');
  });

  test('a missing file fails naming it', async () => {
    const root = await temp.procRoot({});
    await expect(readMeminfo(root)).rejects.toThrow(`cannot read ${path.join(root, 'meminfo')}`);
  });

  test('the real /proc/meminfo: some memory, available no more than total', async () => {
    const mem = await readMeminfo();
    expect(mem.memTotalBytes).toBeGreaterThan(0);
    expect(mem.memAvailableBytes).toBeLessThanOrEqual(mem.memTotalBytes);
    expect(mem.swapFreeBytes).toBeLessThanOrEqual(mem.swapTotalBytes);
  });
});
