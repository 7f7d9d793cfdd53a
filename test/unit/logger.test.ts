import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { closeSync, openSync } from 'node:fs';
import { pino } from 'pino';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger, LineDestination } from '../../src/util/logger.js';

let dir: string;
const fds: number[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'logger-'));
});

afterEach(async () => {
  for (const fd of fds.splice(0)) closeSync(fd);
  await rm(dir, { recursive: true, force: true });
});

function open(file: string): number {
  const fd = openSync(file, 'w');
  fds.push(fd);
  return fd;
}

describe('the agent logger', () => {
  test('writes one JSON line per call', async () => {
    const file = path.join(dir, 'agent.log');
    const log = createLogger('debug', open(file));
    log.info({ row: 'web@default' }, 'row checked');
    log.debug('details');
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toMatchObject([
      { level: 30, name: 'campaign-health-agent', row: 'web@default', msg: 'row checked' },
      { level: 20, msg: 'details' },
    ]);
  });

  // /dev/full: every write fails with ENOSPC, as on a full disk. pino.destination threw from the log
  // call there, which took the daemon down at its first line.
  test('a full disk drops the lines: the log call neither throws nor queues them', () => {
    const destination = new LineDestination(open('/dev/full'));
    expect(() => destination.write('{"msg":"lost"}\n')).not.toThrow();
    expect(destination.dropped).toBe(1);
    // Through pino, as the daemon logs: every line is attempted at once and dropped, none is kept
    // for later (the destination has no buffer: a line is written or counted as dropped).
    const log = pino({ level: 'debug' }, destination);
    for (let i = 0; i < 20_000; i++) log.debug({ i, filler: 'x'.repeat(200) }, 'cannot be written');
    expect(destination.dropped).toBe(20_001);
    expect(() => createLogger('debug', open('/dev/full')).error('still no throw')).not.toThrow();
  });

  test('a descriptor that is no longer valid drops the line (EBADF), without throwing', () => {
    const fd = openSync(path.join(dir, 'closed.log'), 'w');
    closeSync(fd);
    const destination = new LineDestination(fd);
    expect(() => destination.write('{"msg":"lost"}\n')).not.toThrow();
    expect(destination.dropped).toBe(1);
  });
});
