import { afterEach, describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseShm, readShm } from '../../../src/snapshot/shm.js';
import { SHM_HEADER, shmRow, TempDirs } from './procFixture.js';

const temp = new TempDirs();
afterEach(() => temp.removeAll());

describe('sysvipc/shm', () => {
  test('counts segments and the orphaned ones (nattch 0)', async () => {
    const root = await temp.procRoot({ 'sysvipc/shm': `${SHM_HEADER}\n${shmRow(0, 0)}\n${shmRow(32769, 2)}\n${shmRow(65538, 0)}\n` });
    expect(await readShm(root)).toEqual({
      segments: 3,
      orphaned: [
        { shmid: 0, nattch: 0, bytes: 93608 },
        { shmid: 65538, nattch: 0, bytes: 93608 },
      ],
    });
  });

  test('the row from the brief, as the kernel prints it', () => {
    const row =
      '1375864441          0   666      93608  1234  1234      0     0     0     0     0          0          0 1700000000       4096          0';
    const header = '       key      shmid perms       size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime        rss       swap';
    expect(parseShm(`${header}\n${row}\n`, '/proc/sysvipc/shm')).toEqual([{ shmid: 0, nattch: 0, bytes: 93608 }]);
  });

  test('older kernels without the rss and swap columns read the same', () => {
    const header = '       key      shmid perms       size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime';
    const row = '1375864441         7   666      93608  1234  1234      1     0     0     0     0          0          0 1700000000';
    expect(parseShm(`${header}\n${row}\n`, '/proc/sysvipc/shm')).toEqual([{ shmid: 7, nattch: 1, bytes: 93608 }]);
  });

  test('only the header: no segments', () => {
    expect(parseShm(`${SHM_HEADER}\n`, '/proc/sysvipc/shm')).toEqual([]);
  });

  test('a file without the header fails naming the file and the columns it needs', () => {
    expect(() => parseShm(`${shmRow(0, 0)}\n`, '/x/shm')).toThrow('/x/shm: expected a header line naming the shmid, size and nattch columns');
  });

  test('a short or non-numeric row fails naming the line', () => {
    expect(() => parseShm(`${SHM_HEADER}\n1375864441 0 666\n`, '/x/shm')).toThrow(
      '/x/shm: expected line 2 to have 16 columns, shmid, size and nattch numeric, got "1375864441 0 666"',
    );
    const noNattch = '1375864441          0   666      93608  1234  1234      -     0     0     0     0          0          0 1700000000       4096          0';
    expect(() => parseShm(`${SHM_HEADER}\n${shmRow(1, 1)}\n${noNattch}\n`, '/x/shm')).toThrow('/x/shm: expected line 3 to have 16 columns');
  });

  test('a missing file fails naming it', async () => {
    const root = await temp.procRoot({});
    await expect(readShm(root)).rejects.toThrow(`cannot read ${path.join(root, 'sysvipc/shm')}`);
  });

  // Kernels built without SYSVIPC have no such file; every mainstream distribution has it.
  const realShm = existsSync('/proc/sysvipc/shm');
  test(`the real /proc/sysvipc/shm parses${realShm ? '' : ' (absent here: reading it fails naming it)'}`, async () => {
    if (!realShm) {
      await expect(readShm()).rejects.toThrow('cannot read /proc/sysvipc/shm');
      return;
    }
    const shm = await readShm();
    expect(shm.orphaned.length).toBeLessThanOrEqual(shm.segments);
  });
});
