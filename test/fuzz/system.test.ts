// Fuzz: the system indicators' /proc parsers (meminfo, loadavg, cpuinfo, sysvipc/shm, pid_max, file-nr,
// core_pattern).
import { describe, test } from '@jest/globals';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { coreFileName, parseCorePattern } from '../../src/snapshot/coreFiles.js';
import { parseFileNr } from '../../src/snapshot/fileHandles.js';
import { parseCpuinfo, parseLoadavg } from '../../src/snapshot/loadavg.js';
import { parseMeminfo } from '../../src/snapshot/meminfo.js';
import { parsePidMax } from '../../src/snapshot/pidMax.js';
import { parseShm } from '../../src/snapshot/shm.js';
import { ALNUM, DIGITS, attempt, check, expectClearError, junk, mutated, over, tokenText } from './runs.js';

const KIB = 1024;
const kb = fc.oneof(fc.nat({ max: 64 * 1024 * 1024 }), fc.constant(0), fc.integer({ min: 0, max: 2 ** 40 }));
const spaces = fc.constantFrom(' ', '   ', '\t', '        ');

/** A value is safe for the indicators: finite, whole where it counts things, not negative. */
const assertCount = (n: number, what: string): void => assert.ok(Number.isFinite(n) && n >= 0 && Number.isInteger(n), `${what} = ${n}`);

/** A rejection names the file and stays one short line. */
function assertFileError(error: unknown, file: string): void {
  // `got` is cut at 80 characters before JSON escaping: with control characters it can take 6 times that.
  const message = expectClearError(error, 800);
  assert.ok(message.startsWith(`${file}: `) || message.startsWith(`cannot read ${file}`), message);
  assert.ok(!message.includes('\n'), message);
}

describe('fuzz: /proc/meminfo', () => {
  const FILE = '/proc/meminfo';
  const meminfo = fc
    .record({
      total: kb,
      free: kb,
      available: fc.option(kb, { nil: undefined }),
      buffers: fc.option(kb, { nil: undefined }),
      cached: fc.option(kb, { nil: undefined }),
      swapTotal: kb,
      swapFree: kb,
      sp: spaces,
      order: fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
    })
    .map((g) => {
      const lines: Array<[string, number | undefined, string]> = [
        ['MemTotal', g.total, ' kB'], ['MemFree', g.free, ' kB'], ['MemAvailable', g.available, ' kB'], ['Buffers', g.buffers, ' kB'],
        ['Cached', g.cached, ' kB'], ['SwapTotal', g.swapTotal, ' kB'], ['SwapFree', g.swapFree, ' kB'], ['Active(anon)', 12, ' kB'],
        ['HugePages_Total', 0, ''], ['Hugepagesize', 2048, ' kB'], ['DirectMap4k', 1234, ' kB'], ['Committed_AS', 999, ' kB'],
      ];
      const sorted = lines.map((l, i) => ({ l, k: g.order[i]! })).sort((a, b) => a.k - b.k).map(({ l }) => l);
      const text = sorted.filter(([, v]) => v !== undefined).map(([k, v, unit]) => `${k}:${g.sp}${v}${unit}`).join('\n') + '\n';
      const available = g.available ?? g.free + (g.buffers ?? 0) + (g.cached ?? 0);
      return { text, expected: { memTotalBytes: g.total * KIB, memAvailableBytes: available * KIB, swapTotalBytes: g.swapTotal * KIB, swapFreeBytes: g.swapFree * KIB } };
    });

  test('kernel-shaped files round-trip in any order (MemAvailable missing: free + buffers + cached)', () => {
    check(meminfo, ({ text, expected }) => {
      assert.deepEqual(parseMeminfo(text, FILE), expected);
    });
  });

  test('any text: byte counts finite and non-negative, or one clear error naming the file', () => {
    check(junk([mutated(meminfo.map((m) => m.text)), tokenText(['MemTotal:', 'MemAvailable:', 'SwapTotal:', 'SwapFree:', 'MemFree:', ' ', '\n', '1024', ' kB', '9'.repeat(400), '-1', 'kB'])]), (text) => {
      const outcome = attempt(() => parseMeminfo(text, FILE));
      if (outcome.ok) for (const [k, v] of Object.entries(outcome.value)) assertCount(v, k);
      else assertFileError(outcome.error, FILE);
    });
  });
});

describe('fuzz: /proc/loadavg and /proc/cpuinfo', () => {
  const FILE = '/proc/loadavg';
  const load = fc.tuple(fc.nat({ max: 9999 }), fc.nat({ max: 99 })).map(([i, d]) => ({ text: `${i}.${String(d).padStart(2, '0')}`, value: Number(`${i}.${String(d).padStart(2, '0')}`) }));
  const loadavg = fc.tuple(load, load, load, fc.nat({ max: 500 }), fc.nat({ max: 4_194_304 }), spaces).map(([a, b, c, running, last, sp]) => ({
    text: `${a.text}${sp}${b.text} ${c.text} ${running}/${running + 100} ${last}\n`,
    expected: { load1: a.value, load5: b.value, load15: c.value },
  }));

  test('kernel-shaped loadavg round-trips', () => {
    check(loadavg, ({ text, expected }) => {
      assert.deepEqual(parseLoadavg(text, FILE), expected);
    });
  });

  test('any text: three finite non-negative loads, or one clear error naming the file', () => {
    check(junk([mutated(loadavg.map((l) => l.text)), tokenText(['0.39', ' ', '1', '.', '9'.repeat(400), '3/113', '\n', '-', 'e5', 'NaN'])]), (text) => {
      const outcome = attempt(() => parseLoadavg(text, FILE));
      if (outcome.ok) for (const v of Object.values(outcome.value)) assert.ok(Number.isFinite(v) && v >= 0, `load ${v}`);
      else assertFileError(outcome.error, FILE);
    });
  });

  test('cpuinfo: counts `processor : N` entries, never throws', () => {
    const cpuinfo = fc.tuple(fc.nat({ max: 64 }), fc.constantFrom('processor\t: ', 'processor : ', 'processor: ')).map(([n, head]) => ({
      text: Array.from({ length: n }, (_, i) => `${head}${i}\nvendor_id\t: GenuineIntel\nmodel name\t: x\n`).join('\n'),
      n,
    }));
    check(fc.oneof(cpuinfo, junk().map((text) => ({ text, n: undefined }))), ({ text, n }) => {
      const count = parseCpuinfo(text);
      assertCount(count, 'cpus');
      if (n !== undefined) assert.equal(count, n);
    });
  });
});

describe('fuzz: /proc/sysvipc/shm, pid_max, file-nr', () => {
  const SHM = '/proc/sysvipc/shm';
  const COLUMNS = ['key', 'shmid', 'perms', 'size', 'cpid', 'lpid', 'nattch', 'uid', 'gid', 'cuid', 'cgid', 'atime', 'dtime', 'ctime', 'rss', 'swap'];
  const segment = fc.record({ shmid: fc.nat(), bytes: fc.nat({ max: 2 ** 40 }), nattch: fc.nat({ max: 50 }) });
  const shm = fc.record({ rows: fc.array(segment, { maxLength: 12 }), columns: fc.constantFrom(COLUMNS, COLUMNS.slice(0, 14)) }).map(({ rows, columns }) => ({
    text:
      `${columns.map((c) => c.padStart(10)).join(' ')}\n` +
      rows.map((r) => columns.map((c) => String(c === 'shmid' ? r.shmid : c === 'size' ? r.bytes : c === 'nattch' ? r.nattch : 7).padStart(10)).join(' ')).join('\n') +
      (rows.length > 0 ? '\n' : ''),
    rows: rows.map((r) => ({ shmid: r.shmid, nattch: r.nattch, bytes: r.bytes })),
  }));

  test('shm tables round-trip, columns found by name (with or without rss/swap)', () => {
    check(shm, ({ text, rows }) => {
      assert.deepEqual(parseShm(text, SHM), rows);
    });
  });

  test('any shm text: whole non-negative numbers, or one clear error naming the file', () => {
    check(junk([mutated(shm.map((s) => s.text)), tokenText([...COLUMNS.map((c) => `${c} `), '0 ', '12 ', '9'.repeat(400), ' ', '\n', '-1 '])]), (text) => {
      const outcome = attempt(() => parseShm(text, SHM));
      if (outcome.ok) for (const s of outcome.value) for (const [k, v] of Object.entries(s)) assertCount(v, k);
      else assertFileError(outcome.error, SHM);
    });
  });

  test('pid_max and file-nr round-trip (LONG_MAX included), junk is one clear error', () => {
    const PID = '/proc/sys/kernel/pid_max';
    const NR = '/proc/sys/fs/file-nr';
    const valid = fc.oneof(
      fc.integer({ min: 1, max: 4_194_304 }).map((n) => ({ kind: 'pid' as const, text: `${n}\n`, expected: n })),
      fc.tuple(fc.nat({ max: 10 ** 7 }), fc.constantFrom('9223372036854775807', '2466177', '1048576')).map(([a, max]) => ({ kind: 'nr' as const, text: `${a}\t0\t${max}\n`, expected: { allocated: a, max: Number(max) } })),
    );
    check(valid, ({ kind, text, expected }) => {
      assert.deepEqual(kind === 'pid' ? parsePidMax(text, PID) : parseFileNr(text, NR), expected);
    });
    check(junk([mutated(valid.map((v) => v.text)), tokenText(['0', '1', '\t', ' ', '\n', '9'.repeat(400), '-', '18446744073709551615'])]), (text) => {
      const pid = attempt(() => parsePidMax(text, PID));
      if (pid.ok) assert.ok(Number.isFinite(pid.value) && Number.isInteger(pid.value) && pid.value > 0, `pid_max ${pid.value}`);
      else assertFileError(pid.error, PID);
      const nr = attempt(() => parseFileNr(text, NR));
      if (nr.ok) {
        assertCount(nr.value.allocated, 'allocated');
        assertCount(nr.value.max, 'max');
      } else assertFileError(nr.error, NR);
    });
  });
});

describe('fuzz: core_pattern', () => {
  const NUMERIC = 'cdgiIpPstu';
  const TEXTUAL = 'eEh';
  const piece = fc.oneof(
    { weight: 3, arbitrary: over(ALNUM + '._-', 1, 8) },
    { weight: 2, arbitrary: fc.constantFrom(...[...NUMERIC, ...TEXTUAL].map((s) => `%${s}`)) },
    { weight: 1, arbitrary: fc.constant('%%') },
  );
  /** A basename made of fixed text and specifiers, and one file name the kernel could write for it. */
  const named = fc
    .array(fc.tuple(piece, over(ALNUM + '.-_', 1, 12), over(DIGITS, 1, 7)), { minLength: 1, maxLength: 24 })
    .map((parts) => {
      const basename = parts.map(([p]) => p).join('');
      const file = parts.map(([p, text, digits]) => (p === '%%' ? '%' : p.startsWith('%') ? (NUMERIC.includes(p[1]!) ? digits : text) : p)).join('');
      return { basename, file };
    });

  test('a file the kernel writes for a pattern matches the pattern (core_uses_pid suffix too); near misses fail within the bound', () => {
    check(fc.tuple(named, fc.nat({ max: 99999 })), ([{ basename, file }, pid]) => {
      const name = coreFileName(basename);
      assert.ok(name.test(file), `${name} does not match ${file}`);
      if (!basename.includes('%p')) assert.ok(name.test(`${file}.${pid}`));
      // Failing only at the last character is the worst case for a backtracking regex.
      assert.ok(!name.test(`x/${file}`));
      assert.ok(!name.test(`${file}/`));
      assert.ok(!name.test(`${file.repeat(Math.max(1, Math.floor(250 / file.length))).slice(0, 254)}/`));
    });
  });

  test('many name specifiers (`core.%e.%h.%e...`): a near miss fails within the bound', () => {
    const many = fc.record({
      k: fc.integer({ min: 2, max: 40 }),
      sep: fc.constantFrom('.', '-', '_', 'x', '.%p.', '%t'),
      spec: fc.constantFrom('%e', '%h', '%E', '%e%h'),
      part: over(ALNUM + '.', 1, 6),
    });
    check(many, ({ k, sep, spec, part }) => {
      const name = coreFileName(`core${`${sep}${spec}`.repeat(k)}`);
      const file = `core${`${sep.replace(/%[pt]/g, '42')}${part}`.repeat(k)}`.slice(0, 250);
      name.test(`${file}/`);
      name.test(file);
    });
  });

  test('absolute, relative and piped patterns are told apart; directories with specifiers are uncountable', () => {
    const pattern = fc
      .tuple(fc.constantFrom('/var/crash/', '/tmp/cores/', '', 'cores/', '|/usr/lib/systemd/systemd-coredump %P %u ', '/var/%e/'), named, fc.constantFrom('', '\n'))
      .map(([dir, { basename }, end]) => ({ text: `${dir}${basename}${end}`, dir, basename }));
    check(pattern, ({ text, dir, basename }) => {
      const parsed = parseCorePattern(text);
      if (dir.startsWith('|')) assert.equal(parsed.kind, 'piped');
      else if (dir.includes('%')) assert.equal(parsed.kind, 'uncountable');
      else if (dir.startsWith('/')) assert.deepEqual(parsed.kind === 'absolute' && [parsed.dir, parsed.name.source], ['/' + dir.slice(1, -1), coreFileName(basename).source]);
      else assert.ok(parsed.kind === 'relative' || parsed.kind === 'uncountable');
    });
  });

  test('any text: never throws; a file-name test that answers within the bound on any name', () => {
    const names = fc.oneof(fc.string({ maxLength: 255, size: 'max' }), fc.constantFrom('core', 'core.1234', 'a'.repeat(255), '.'.repeat(255), `core${'x.'.repeat(120)}`));
    check(fc.tuple(junk([tokenText(['%e', '%p', '%h', '%t', '%%', '%', '.', '/', '|', 'core', ' ', '\n', 'x'], 60)]), fc.array(names, { maxLength: 3 })), ([text, files]) => {
      const parsed = parseCorePattern(text);
      assert.ok(['piped', 'absolute', 'relative', 'uncountable'].includes(parsed.kind));
      if (parsed.kind === 'absolute' || parsed.kind === 'relative') for (const file of files) parsed.name.test(file);
    });
  });
});
