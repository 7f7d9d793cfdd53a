import { afterEach, describe, expect, test } from '@jest/globals';
import path from 'node:path';
import { parseFileNr, readFileHandles } from '../../../src/snapshot/fileHandles.js';
import { TempDirs } from './procFixture.js';

const temp = new TempDirs();
afterEach(() => temp.removeAll());

describe('file-nr', () => {
  test('reads allocated and max from a fixture /proc (tab separated, as the kernel writes it)', async () => {
    const root = await temp.procRoot({ 'sys/fs/file-nr': '756\t0\t2466177\n' });
    expect(await readFileHandles(root)).toEqual({ allocated: 756, max: 2466177 });
  });

  test('a LONG_MAX file-max (systemd default) still reads as a number', () => {
    expect(parseFileNr('2048\t0\t9223372036854775807\n', '/proc/sys/fs/file-nr').max).toBeGreaterThan(9e18);
  });

  test('a malformed file fails naming the file and the expected format', () => {
    expect(() => parseFileNr('756 0\n', '/x/file-nr')).toThrow('/x/file-nr: expected three numbers "allocated free max" such as "756 0 2466177", got "756 0"');
    expect(() => parseFileNr('756 zero 10\n', '/x/file-nr')).toThrow('/x/file-nr: expected three numbers');
  });

  test('a missing file fails naming it', async () => {
    const root = await temp.procRoot({});
    await expect(readFileHandles(root)).rejects.toThrow(`cannot read ${path.join(root, 'sys/fs/file-nr')}`);
  });

  test('the real /proc: some handles allocated, under the max', async () => {
    const handles = await readFileHandles();
    expect(handles.allocated).toBeGreaterThan(0);
    expect(handles.max).toBeGreaterThan(handles.allocated);
  });
});
