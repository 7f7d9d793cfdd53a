import { describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { StatFiles } from '../../../src/snapshot/statFiles.js';

const openDescriptors = (): number => readdirSync('/proc/self/fd').length;

async function sleeper(): Promise<{ pid: string; stop: () => Promise<void> }> {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  await once(child, 'spawn');
  return {
    pid: String(child.pid),
    stop: async () => {
      child.kill('SIGKILL');
      // 'exit' comes after the kernel has reaped it: its /proc entry is gone.
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    },
  };
}

describe('kept /proc/<pid>/stat descriptors', () => {
  test('a process is read through one descriptor, kept across reads, and dropped once it is gone', async () => {
    const files = new StatFiles('/proc');
    const child = await sleeper();
    const before = openDescriptors();
    expect(files.read(child.pid)).toMatch(new RegExp(`^${child.pid} \\(sleep\\) [RS] `));
    expect(files.size).toBe(1);
    expect(openDescriptors()).toBe(before + 1);
    // Read again through the same descriptor: the state is current, no new descriptor.
    expect(files.read(child.pid)).toMatch(/^\d+ \(sleep\) [SR] /);
    expect(openDescriptors()).toBe(before + 1);
    await child.stop();
    // The kept descriptor now fails (ESRCH): the reader says gone and closes it.
    expect(files.read(child.pid)).toBeUndefined();
    expect(files.size).toBe(0);
    expect(openDescriptors()).toBe(before);
  });

  test('keepOnly closes the descriptors of pids no longer listed', async () => {
    const files = new StatFiles('/proc');
    const a = await sleeper();
    const b = await sleeper();
    try {
      const before = openDescriptors();
      files.read(a.pid);
      files.read(b.pid);
      expect(openDescriptors()).toBe(before + 2);
      files.keepOnly(new Set([b.pid]));
      expect(files.size).toBe(1);
      expect(openDescriptors()).toBe(before + 1);
      files.keepOnly(new Set());
      expect(openDescriptors()).toBe(before);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  test('beyond its budget it still reads, opening and closing each time', async () => {
    const files = new StatFiles('/proc', 'stat', 1);
    const a = await sleeper();
    const b = await sleeper();
    try {
      const before = openDescriptors();
      expect(files.read(a.pid)).toContain('(sleep)');
      expect(files.read(b.pid)).toContain('(sleep)');
      expect(files.size).toBe(1);
      expect(openDescriptors()).toBe(before + 1);
      files.keepOnly(new Set());
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  test('readKept answers only through a kept descriptor whose process still lives', async () => {
    const files = new StatFiles('/proc', 'comm');
    const child = await sleeper();
    expect(files.readKept(child.pid)).toBeUndefined();
    expect(files.read(child.pid)).toBe('sleep\n');
    expect(files.readKept(child.pid)).toBe('sleep\n');
    await child.stop();
    expect(files.readKept(child.pid)).toBeUndefined();
    expect(files.size).toBe(0);
  });

  test('a pid that never existed is undefined, not an error', () => {
    expect(new StatFiles('/proc').read('999999999')).toBeUndefined();
  });
});
