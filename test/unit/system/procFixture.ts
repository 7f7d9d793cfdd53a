import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

// Fixture /proc trees for the system readers: real files in a temp dir, laid out as under /proc.

export const SHM_HEADER =
  '       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap';

/** One /proc/sysvipc/shm row; only shmid and nattch vary in these tests. */
export function shmRow(shmid: number, nattch: number): string {
  return `1375864441 ${String(shmid).padStart(10)}   666                 93608  1234  1234 ${String(nattch).padStart(6)}     0     0     0     0          0          0 1700000000                  4096                     0`;
}

/** A healthy 16 GiB, 4 CPU host: every indicator well under Campaign's thresholds. */
export const HEALTHY_PROC: Readonly<Record<string, string>> = {
  loadavg: '0.39 0.45 0.62 3/113 1744\n',
  meminfo: [
    'MemTotal:       16777216 kB',
    'MemFree:         8000000 kB',
    'MemAvailable:   12582912 kB',
    'Buffers:            4848 kB',
    'Cached:           364840 kB',
    'SwapTotal:       4194304 kB',
    'SwapFree:        4194304 kB',
    'HugePages_Total:       0',
    'Hugepagesize:       2048 kB',
    '',
  ].join('\n'),
  'sys/fs/file-nr': '756\t0\t2466177\n',
  'sys/kernel/pid_max': '4194304\n',
  'sys/kernel/core_pattern': 'core\n',
  'sysvipc/shm': `${SHM_HEADER}\n${shmRow(0, 2)}\n`,
};

/** Temp dirs made by a test file, removed in its afterEach. */
export class TempDirs {
  private readonly dirs: string[] = [];

  async make(prefix: string): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  /** A proc root holding `files` (path relative to /proc → content). */
  async procRoot(files: Readonly<Record<string, string>>): Promise<string> {
    const root = await this.make('proc-');
    await writeFiles(root, files);
    return root;
  }

  async removeAll(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

export async function writeFiles(root: string, files: Readonly<Record<string, string>>): Promise<void> {
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(root, relative);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
}
