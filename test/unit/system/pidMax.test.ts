import { afterEach, describe, expect, test } from '@jest/globals';
import path from 'node:path';
import { parsePidMax, readPidMax } from '../../../src/snapshot/pidMax.js';
import { TempDirs } from './procFixture.js';

const temp = new TempDirs();
afterEach(() => temp.removeAll());

describe('pid_max', () => {
  test('reads the number from a fixture /proc', async () => {
    expect(await readPidMax(await temp.procRoot({ 'sys/kernel/pid_max': '32768\n' }))).toBe(32768);
  });

  test('a malformed or zero value fails naming the file', () => {
    expect(() => parsePidMax('lots\n', '/x/pid_max')).toThrow('/x/pid_max: expected one number such as "4194304", got "lots"');
    expect(() => parsePidMax('0\n', '/x/pid_max')).toThrow('/x/pid_max: expected a positive number');
  });

  test('400 digits are malformed, not Infinity (fuzz counterexample)', () => {
    // Found by test/fuzz/system.test.ts; wholeNumber (shm, file-nr too) takes at most 20 digits, a 64-bit counter.
    expect(() => parsePidMax(`${'9'.repeat(400)}\n`, '/x/pid_max')).toThrow(/^\/x\/pid_max: expected one number such as "4194304", got "9{80}…"$/);
    expect(parsePidMax('18446744073709551615\n', '/x/pid_max')).toBe(18446744073709551615);
  });

  test('a missing file fails naming it', async () => {
    const root = await temp.procRoot({});
    await expect(readPidMax(root)).rejects.toThrow(`cannot read ${path.join(root, 'sys/kernel/pid_max')}`);
  });

  test('the real /proc: pid_max is positive', async () => {
    expect(await readPidMax()).toBeGreaterThan(0);
  });
});
