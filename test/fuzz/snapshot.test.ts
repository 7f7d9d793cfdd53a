// Fuzz: the process and socket snapshot parsers (/proc/<pid>/stat, /proc/<pid>/cmdline, /proc/stat btime,
// /proc/net/{tcp,tcp6,udp,udp6}).
import { describe, test } from '@jest/globals';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { parseBootTimeMs, parseCmdline, parseStat } from '../../src/snapshot/processes.js';
import { parseSocketTable } from '../../src/snapshot/sockets.js';
import { attempt, check, expectClearError, junk, mutated, tokenText } from './runs.js';

/** A clear rejection: an Error, one line, short (it ends up in an `unknown` check message). */
const assertShortError = (error: unknown): void => {
  // Quoted text is cut at 80 characters before JSON escaping, which can take 6 times that.
  const message = expectClearError(error, 800);
  assert.ok(!message.includes('\n'), message);
};

/** The first parseStat (split everything), kept as the oracle of the one that cuts out only what it needs. */
function referenceParseStat(text: string): ReturnType<typeof parseStat> {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line (expected "pid (comm) state ..."): ${JSON.stringify(text.slice(0, 80))}`);
  const rest = text.slice(close + 1).trim().split(/\s+/);
  const field = (n: number): string => {
    const value = rest[n - 3];
    if (value === undefined || value === '') throw new Error(`/proc/<pid>/stat line has ${rest.filter(Boolean).length + 2} fields, expected at least ${n}`);
    return value;
  };
  const number = (t: string, what: string): number => {
    const value = /^\d{1,15}$/.test(t) ? Number(t) : Number.NaN;
    if (Number.isNaN(value)) throw new Error(`/proc/<pid>/stat ${what} is not a whole number: ${JSON.stringify(t.slice(0, 40))}`);
    return value;
  };
  const optional = (t: string | undefined): number => {
    const value = t !== undefined && /^\d{1,16}$/.test(t) ? Number(t) : 0;
    return Number.isSafeInteger(value) ? value : 0;
  };
  const pid = number(text.slice(0, open).trim(), 'pid');
  if (pid === 0) throw new Error('/proc/<pid>/stat pid is 0, expected a positive number');
  return {
    pid,
    comm: text.slice(open + 1, close),
    stateLetter: field(3),
    ppid: number(field(4), 'ppid (field 4)'),
    flags: number(field(9), 'flags (field 9)'),
    startTimeTicks: number(field(22), 'starttime (field 22)'),
    rssPages: number(field(24), 'rss (field 24)'),
    argStart: optional(rest[45]),
    argEnd: optional(rest[46]),
  };
}

describe('fuzz: /proc/<pid>/stat', () => {
  const comm = fc.string({ unit: fc.constantFrom(...'abcxyz ()-_.:/0123456789\t'), maxLength: 15, size: 'max' });
  const stat = fc
    .record({
      pid: fc.integer({ min: 1, max: 4_194_304 }),
      comm,
      state: fc.constantFrom('R', 'S', 'D', 'Z', 'T', 't', 'X', 'I'),
      ppid: fc.nat({ max: 4_194_304 }),
      flags: fc.nat({ max: 2 ** 31 - 1 }),
      start: fc.nat({ max: 2 ** 40 }),
      rss: fc.nat({ max: 2 ** 30 }),
      // Fields 48, 49 (where argv lives); older kernels print fewer fields, read as 0.
      args: fc.option(fc.tuple(fc.nat({ max: 2 ** 47 }), fc.nat({ max: 2 ** 47 })), { nil: undefined }),
    })
    .map((s) => {
      const fields = [s.state, s.ppid, 1, 1, 0, -1, s.flags, 0, 0, 0, 0, 1, 1, 0, 0, 20, 0, 1, 0, s.start, 1000, s.rss];
      const tail = s.args ? ['18446744073709551615', ...Array<number>(22).fill(0), ...s.args, 0, 0, 0] : ['18446744073709551615', 0, 0, 0];
      return {
        text: `${s.pid} (${s.comm}) ${fields.join(' ')} ${tail.join(' ')}\n`,
        expected: { pid: s.pid, comm: s.comm, stateLetter: s.state, ppid: s.ppid, flags: s.flags, startTimeTicks: s.start, rssPages: s.rss, argStart: s.args?.[0] ?? 0, argEnd: s.args?.[1] ?? 0 },
      };
    });

  test('kernel-shaped lines round-trip, comm with spaces and parentheses included', () => {
    check(stat, ({ text, expected }) => {
      assert.deepEqual(parseStat(text), expected);
    });
  });

  test('any text: the same result or the same error as the plain split(/\\s+/) reading it replaced', () => {
    check(junk([mutated(stat.map((s) => s.text)), tokenText(['12 ', '(', ')', 'S ', '1 ', '0 ', '\t', '\u00a0', '\u2003', 'x ', '\n'], 80)]), (text) => {
      const actual = attempt(() => parseStat(text));
      const expected = attempt(() => referenceParseStat(text));
      if (expected.ok) assert.deepEqual(actual.ok ? actual.value : String(actual.error), expected.value);
      else assert.equal(actual.ok ? 'parsed' : String(actual.error), String(expected.error));
    });
  });

  test('any text: whole numbers (pid positive), or one clear error', () => {
    check(junk([mutated(stat.map((s) => s.text)), tokenText(['12 ', '(', ')', 'S ', '1 ', '0 ', '-1 ', ' ', 'x ', '9'.repeat(30), '\n'], 60)]), (text) => {
      const outcome = attempt(() => parseStat(text));
      if (!outcome.ok) return assertShortError(outcome.error);
      const s = outcome.value;
      assert.ok(Number.isSafeInteger(s.pid) && s.pid > 0, `pid ${s.pid}`);
      for (const [k, v] of Object.entries({ ppid: s.ppid, flags: s.flags, startTimeTicks: s.startTimeTicks, rssPages: s.rssPages, argStart: s.argStart, argEnd: s.argEnd })) {
        assert.ok(Number.isSafeInteger(v), `${k} ${v}`);
      }
    });
  });
});

describe('fuzz: /proc/<pid>/cmdline and /proc/stat', () => {
  const arg = fc.string({ unit: fc.constantFrom(...'abc-_:/=.@0123 \té'), maxLength: 12, size: 'max' });
  test('NUL-separated argv round-trips; a single rewritten title is split on whitespace', () => {
    check(fc.array(arg, { minLength: 1, maxLength: 8 }), (argv) => {
      const parsed = parseCmdline(`${argv.join('\0')}\0`);
      const kept = [...argv];
      while (kept.length > 0 && kept[kept.length - 1] === '') kept.pop();
      if (kept.length === 1 && /\s/.test(kept[0]!)) assert.deepEqual(parsed, kept[0]!.trim().split(/\s+/));
      else assert.deepEqual(parsed, kept);
    });
  });

  test('any text: cmdline is a list of strings; btime is a finite time or one clear error', () => {
    check(junk([tokenText(['btime ', '1700000000', '\n', ' ', 'cpu 1 2 3', '9'.repeat(400)])]), (text) => {
      for (const a of parseCmdline(text)) assert.equal(typeof a, 'string');
      const boot = attempt(() => parseBootTimeMs(text));
      if (boot.ok) assert.ok(Number.isSafeInteger(boot.value) && boot.value >= 0, `btime ${boot.value}`);
      else assertShortError(boot.error);
    });
  });
});

describe('fuzz: /proc/net socket tables', () => {
  const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');
  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
  const socket = fc.record({
    family: fc.constantFrom(4 as const, 6 as const),
    proto: fc.constantFrom('tcp' as const, 'udp' as const),
    v4: ipv4,
    v6: fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }),
    port: fc.nat(65535),
    state: fc.constantFrom('01', '07', '0A', '06', '0B'),
    inode: fc.nat(),
  });
  /** The kernel's little-endian words. */
  const leWord = (bytes: number[]): string => bytes.slice().reverse().map((b) => hex(b, 2)).join('');
  const table = fc.tuple(fc.constantFrom(4 as const, 6 as const), fc.constantFrom('tcp' as const, 'udp' as const), fc.array(socket, { maxLength: 10 })).map(([family, proto, rows]) => {
    const lines = rows.map((r, i) => {
      const bytes = family === 4 ? r.v4 : r.v6.flatMap((g) => [g >> 8, g & 0xff]);
      const address = family === 4 ? leWord(bytes) : [0, 4, 8, 12].map((o) => leWord(bytes.slice(o, o + 4))).join('');
      return `${String(i).padStart(4)}: ${address}:${hex(r.port, 4)} ${'0'.repeat(family === 4 ? 8 : 32)}:0000 ${r.state} 00000000:00000000 00:00000000 00000000  1000        0 ${r.inode} 1 0000000000000000 100 0 0 10 0`;
    });
    const expected = rows.map((r) => ({
      proto,
      family,
      port: r.port,
      state: proto === 'tcp' ? ({ '01': 'ESTABLISHED', '07': 'CLOSE', '0A': 'LISTEN', '06': 'TIME_WAIT', '0B': 'CLOSING' } as Record<string, string>)[r.state] : ({ '01': 'ESTABLISHED', '07': 'UNCONN' } as Record<string, string>)[r.state] ?? `STATE_${r.state}`,
      inode: r.inode,
      v4: family === 4 ? r.v4.join('.') : undefined,
    }));
    return { family, proto, text: `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n${lines.join('\n')}\n`, expected };
  });

  test('kernel-shaped tables round-trip: family, address, port, state, inode', () => {
    check(table, ({ family, proto, text, expected }) => {
      const parsed = parseSocketTable(text, proto, family);
      assert.equal(parsed.length, expected.length);
      parsed.forEach((s, i) => {
        const e = expected[i]!;
        assert.deepEqual([s.proto, s.family, s.localPort, s.state, s.inode], [e.proto, e.family, e.port, e.state, e.inode]);
        assert.equal(isIP(s.localAddress), family);
        if (e.v4 !== undefined) assert.equal(s.localAddress, e.v4);
      });
    });
  });

  test('any text: ports 0-65535, whole inodes, valid addresses, kernel-style states; or one clear error', () => {
    const tokens = ['0100007F:1F45', '00000000:0000', ' 0A ', ' 07 ', ' 0: ', ' ', '\n', '1234', ':', 'ZZZZ', '1FFFFF', 'x'];
    check(fc.tuple(junk([mutated(table.map((t) => t.text)), tokenText(tokens, 60)]), fc.constantFrom(4 as const, 6 as const), fc.constantFrom('tcp' as const, 'udp' as const)), ([text, family, proto]) => {
      const outcome = attempt(() => parseSocketTable(text, proto, family));
      if (!outcome.ok) return assertShortError(outcome.error);
      for (const s of outcome.value) {
        assert.ok(Number.isInteger(s.localPort) && s.localPort >= 0 && s.localPort <= 65535, `port ${s.localPort}`);
        assert.ok(Number.isSafeInteger(s.inode) && s.inode >= 0, `inode ${s.inode}`);
        assert.equal(isIP(s.localAddress), family, s.localAddress);
        assert.match(s.state, /^(?:[A-Z_0-9]+|STATE_[0-9A-F]{2})$/);
      }
    });
  });
});
