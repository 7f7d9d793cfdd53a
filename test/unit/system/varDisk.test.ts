import { afterEach, describe, expect, test } from '@jest/globals';
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { readFilesystem } from '../../../src/snapshot/varDisk.js';
import { TempDirs } from './procFixture.js';

const temp = new TempDirs();
afterEach(() => temp.removeAll());

describe('var filesystem', () => {
  test('size and available bytes of the filesystem holding a real directory, used as df counts it', async () => {
    const dir = await temp.make('var-');
    const fs = await readFilesystem(dir);
    const stats = await statfs(dir);
    expect(fs.sizeBytes).toBe(stats.blocks * stats.bsize);
    expect(fs.availBytes).toBe(stats.bavail * stats.bsize);
    expect(fs.availBytes).toBeLessThanOrEqual(fs.sizeBytes);
    expect(fs.usedRatio).toBeGreaterThanOrEqual(0);
    expect(fs.usedRatio).toBeLessThanOrEqual(1);
  });

  test('a missing directory fails naming it', async () => {
    const missing = path.join(await temp.make('var-'), 'nope');
    await expect(readFilesystem(missing)).rejects.toThrow(`cannot statfs ${missing}: no such file or directory (ENOENT)`);
  });
});
