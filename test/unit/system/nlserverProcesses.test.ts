import { describe, expect, test } from '@jest/globals';
import { findTooOld, findZombies, isNlserver, moduleLabel, tooOldAfterMs } from '../../../src/snapshot/nlserverProcesses.js';
import type { ProcessInfo } from '../../../src/core/contracts.js';

const HOUR = 3_600_000;
const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);

function proc(pid: number, argv: string[], o: Partial<ProcessInfo> = {}): ProcessInfo {
  return { pid, ppid: 1, argv, comm: argv[0]?.split('/').pop()?.slice(0, 15) ?? '', startedAtMs: NOW - HOUR, rssBytes: 0, stateLetter: 'S', ...o };
}

describe('nlserver processes', () => {
  test('an nlserver process is recognised by argv[0] or, for a zombie with no cmdline, by comm', () => {
    expect(isNlserver(proc(1, ['/usr/local/neolane/nl6/bin/nlserver', 'web']))).toBe(true);
    expect(isNlserver(proc(2, [], { comm: 'nlserver', stateLetter: 'Z' }))).toBe(true);
    expect(isNlserver(proc(3, ['/usr/bin/java', 'nlserver']))).toBe(false);
  });

  test('module label carries the instance from -instance: or -tracefile:', () => {
    expect(moduleLabel(proc(1, ['nlserver', 'wfserver', '-tracefile:wfserver@prod', '-instance:prod', '-detach']))).toBe('wfserver@prod');
    expect(moduleLabel(proc(2, ['nlserver', 'mta', '-tracefile:mta@mkt']))).toBe('mta@mkt');
    expect(moduleLabel(proc(3, ['nlserver', 'syslogd', '-tracefile:syslogd@default']))).toBe('syslogd@default');
    expect(moduleLabel(proc(4, ['nlserver', 'watchdog', '-svc', '-noconsole']))).toBe('watchdog');
    expect(moduleLabel(proc(5, ['nlserver', '-version']))).toBeUndefined();
    expect(moduleLabel(proc(6, ['bash', 'web']))).toBeUndefined();
  });
});

describe('findZombies', () => {
  test('counts zombies that are nlserver or children of nlserver; the host others are reported apart', () => {
    const processes = [
      proc(100, ['nlserver', 'web']),
      proc(101, [], { comm: 'nlserver', stateLetter: 'Z', ppid: 50 }),
      proc(102, [], { comm: 'sh', stateLetter: 'Z', ppid: 100 }),
      proc(103, [], { comm: 'defunct-app', stateLetter: 'Z', ppid: 7 }),
      proc(104, ['sh', '-c', 'x'], { ppid: 100 }),
    ];
    const zombies = findZombies(processes);
    expect(zombies.campaign.map((p) => p.pid)).toEqual([101, 102]);
    expect(zombies.others).toBe(1);
  });
});

describe('findTooOld', () => {
  const maxAge = tooOldAfterMs(HOUR);

  test('one day plus the grace', () => {
    expect(maxAge).toBe(25 * HOUR);
  });

  test('nlserver modules older than a day plus grace, oldest first; watchdog, mtachild, zombies and other programs excluded', () => {
    const processes = [
      proc(10, ['nlserver', 'wfserver', '-instance:prod'], { startedAtMs: NOW - 26 * HOUR }),
      proc(11, ['nlserver', 'mta', '-instance:prod'], { startedAtMs: NOW - 50 * HOUR }),
      proc(12, ['nlserver', 'web'], { startedAtMs: NOW - 24 * HOUR }),
      proc(13, ['nlserver', 'watchdog', '-svc'], { startedAtMs: NOW - 900 * HOUR }),
      proc(14, ['nlserver', 'mtachild', '-instance:prod'], { startedAtMs: NOW - 90 * HOUR }),
      proc(15, [], { comm: 'nlserver', stateLetter: 'Z', startedAtMs: NOW - 90 * HOUR }),
      proc(16, ['/usr/sbin/sshd'], { startedAtMs: NOW - 900 * HOUR }),
      proc(17, ['nlserver', 'syslogd'], { startedAtMs: NOW - 25 * HOUR }),
    ];
    expect(findTooOld(processes, NOW, maxAge)).toEqual([
      { pid: 11, label: 'mta@prod', ageMs: 50 * HOUR },
      { pid: 10, label: 'wfserver@prod', ageMs: 26 * HOUR },
    ]);
  });
});
