// Fuzz: customer.sh, read without running it (parseCustomerSh), and TRACE_ADDR values (parseTraceAddr).
import { describe, test } from '@jest/globals';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { parseCustomerSh, parseTraceAddr } from '../../src/discovery/customerSh.js';
import { ALNUM, DIGITS, LOWER, UPPER, attempt, check, expectClearError, junk, mutated, nested, over, tokenText } from './runs.js';

const FILE = '/usr/local/neolane/nl6/customer.sh';
/** A value the shell would compute: notes must name the variable, never repeat this. */
const MARK = 'Pw9-MARK-q2';

const varName = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('TRACE_ADDR', 'XTK_VAR_DIR', 'TMPDIR', 'JDK_HOME', 'LD_LIBRARY_PATH', '__proto__', 'constructor') },
  { weight: 3, arbitrary: fc.tuple(over(UPPER + '_', 1, 1), over(UPPER + DIGITS + '_', 0, 10)).map(([a, b]) => a + b) },
);
/** Values as the variables should end up: paths, host:port, and any printable text (quotes, $, spaces...). */
const value = fc.oneof(
  fc.constantFrom('localhost:6666', '127.0.0.1:6667', '[::1]:6666', '/usr/local/neolane/nl6/var', '/var/nl6', '', '~', 'a b', "it's", 'x=y', '#hash', '$HOME', '`id`'),
  fc.tuple(fc.constantFrom('', '/', 'host-'), over(ALNUM + '._-/:', 0, 20)).map(([a, b]) => a + b),
  fc.string({ unit: fc.constantFrom(...`${LOWER}${DIGITS} \t\n'"\\$\`;&|()<>*?[]#~=%!{}é`), maxLength: 24, size: 'max' }),
);

// One way of writing a piece of a value as a shell word; any concatenation of them is the value.
const single = (v: string): string => `'${v.replaceAll("'", "'\\''")}'`;
const double = (v: string): string => `"${v.replace(/[$`"\\]/g, (c) => `\\${c}`)}"`;
const bare = (v: string): string =>
  [...v].map((c) => (/[A-Za-z0-9/._:@+,-]/.test(c) ? c : c === '\n' ? "'\n'" : `\\${c}`)).join('');
const STYLES = [single, double, bare];

/** A value written as a shell word: chunks of it, each quoted its own way. */
const word = (v: string): fc.Arbitrary<string> =>
  fc.array(fc.tuple(fc.nat(), fc.nat({ max: STYLES.length - 1 })), { minLength: 1, maxLength: 3 }).map((cuts) => {
    if (v === '') return cuts.length > 1 ? "''" : '""';
    const at = [...new Set(cuts.map(([c]) => c % v.length))].sort((a, b) => a - b);
    if (at[0] !== 0) at.unshift(0);
    return at.map((start, i) => STYLES[cuts[i % cuts.length]![1]]!(v.slice(start, at[i + 1]))).join('');
  });

/** The documented ways of exporting NAME=value. */
const FORMS = [
  (n: string, w: string) => `export ${n}=${w}`,
  (n: string, w: string) => `${n}=${w}; export ${n}`,
  (n: string, w: string) => `${n}=${w}\nexport ${n}`,
  (n: string, w: string) => `export ${n}\n${n}=${w}`,
  (n: string, w: string) => `declare -x ${n}=${w}`,
  (n: string, w: string) => `export other_${n}=1 ${n}=${w}`,
  (n: string, w: string) => `  export   ${n}=${w}   # set for nlserver`,
];
const NOISE = ['', '#!/bin/sh', '# site overrides', 'ulimit -n 4096', 'umask 022', 'echo starting >/dev/null', 'LANG=C nlserver pdump >/dev/null 2>&1'];

/** A customer.sh exporting literal values in any quoting, with what it must give. */
const customerSh = fc
  .uniqueArray(fc.record({ name: varName, value, form: fc.nat({ max: FORMS.length - 1 }), noise: fc.constantFrom(...NOISE) }), {
    selector: (v) => v.name,
    maxLength: 6,
  })
  .chain((vars) => fc.tuple(fc.constant(vars), fc.tuple(...vars.map((v) => word(v.value)))))
  .map(([vars, words]) => {
    const lines = vars.flatMap((v, i) => [v.noise, FORMS[v.form]!(v.name, words[i]!)]);
    const expected = Object.fromEntries([
      ...vars.map((v) => [v.name, v.value] as const),
      ...vars.filter((v) => v.form === 5).map((v) => [`other_${v.name}`, '1'] as const),
    ]);
    return { text: `${lines.join('\n')}\n`, vars: expected };
  });

/** Values only the shell could compute, in forms that are not evaluated: noted by name, never quoted. */
const unevaluated = fc
  .record({
    name: varName,
    form: fc.constantFrom(
      `export %N=$(hostname):%M`,
      `export %N="\${HOST}%M"`,
      'export %N=`cat /etc/%M`',
      'export %N=$HOME/%M',
      'export %N=~/%M',
      `if [ -f /x ]; then export %N=%M; fi`,
      `[ -n "$X" ] && export %N=%M`,
      `( export %N=%M )`,
      `export %N=$'%M'`,
      `export %N="%M`,
      `f() { export %N=%M; }`,
      `case $X in a) export %N=%M ;; esac`,
    ),
    before: fc.constantFrom('', '# comment\n', 'export lower_case=1\n'),
  })
  .map(({ name, form, before }) => `${before}${form.replaceAll('%N', name).replaceAll('%M', MARK)}\n`);

const TOKENS = ['export ', 'TRACE_ADDR', '=', 'localhost:6666', "'", '"', '\\', '$', '$(', ')', '`', '${', '}', ';', '&&', '||', '|', '&', '(', '#', '\n', ' ', 'if ', 'then ', 'fi', 'case ', 'esac', ' in ', 'do', 'done', '<<EOF\n', 'EOF', '<<-', '\t', 'unset ', 'set -a', 'declare -x ', '. ./env.sh', 'eval ', '~', 'function ', '{ ', ' }'];

const NOTE = new RegExp(`^${FILE.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} line [1-9]\\d*: `);

describe('fuzz: customer.sh', () => {
  test('literal exports in any quoting round-trip (single, double, bare, concatenated; export/declare/later export)', () => {
    check(customerSh, ({ text, vars }) => {
      const parsed = parseCustomerSh(text, FILE);
      assert.deepEqual({ ...parsed.vars }, vars);
      assert.deepEqual(parsed.notes, []);
    });
  });

  test('values only the shell could compute are noted by variable and line, never repeated', () => {
    check(unevaluated, (text) => {
      const parsed = parseCustomerSh(text, FILE);
      assert.ok(!JSON.stringify(parsed).includes(MARK), `value repeated: ${JSON.stringify(parsed)}`);
    });
  });

  test('any text and mutated files: never throws; string values; notes one line each, naming the file and a line', () => {
    const deep = nested([['(', ')'], ['$(', ')'], ['${', '}'], ['if x; then ', '; fi'], ['{ ', '; }'], ['"$(', ')"'], ['`', '`']], 'export A=1', 1000);
    check(junk([mutated(customerSh.map((c) => c.text)), tokenText(TOKENS, 60), deep]), (text) => {
      const parsed = parseCustomerSh(text, FILE);
      const lines = text.split('\n').length;
      for (const v of Object.values(parsed.vars)) assert.equal(typeof v, 'string');
      assert.equal(parsed.notes.length, parsed.skipped.length);
      for (const note of parsed.notes) {
        assert.match(note, NOTE);
        assert.ok(!note.includes('\n'), `note on several lines: ${JSON.stringify(note)}`);
        assert.ok(note.length <= FILE.length + 200, `note of ${note.length} characters`);
      }
      for (const s of parsed.skipped) assert.ok(Number.isInteger(s.line) && s.line >= 1 && s.line <= lines + 1, `line ${s.line} of ${lines}`);
    });
  });
});

describe('fuzz: TRACE_ADDR', () => {
  const port = fc.integer({ min: 1, max: 65535 });
  const host = fc.oneof(fc.constantFrom('localhost', '127.0.0.1', 'syslog.example.com', 'nl-front_1'), over(ALNUM + '._-', 1, 20));
  const v6 = fc.ipV6();
  const address = fc.oneof(
    fc.tuple(host, port).map(([h, p]) => ({ text: `${h}:${p}`, host: h, port: p })),
    fc.tuple(v6, port).map(([h, p]) => ({ text: `[${h}]:${p}`, host: h, port: p })),
    host.filter((h) => !/^\d+$/.test(h)).map((h) => ({ text: h, host: h, port: 6666 })),
    v6.filter((h) => h.includes('::') || h.split(':').length > 2).map((h) => ({ text: h, host: h, port: 6666 })),
    port.map((p) => ({ text: String(p), host: 'localhost', port: p })),
  );

  test('host:port, [ipv6]:port, host, bare IPv6 and bare port round-trip (spaces around ignored)', () => {
    check(fc.tuple(address, fc.constantFrom('', ' ', '\t')), ([{ text, host, port }, pad]) => {
      assert.deepEqual(parseTraceAddr(`${pad}${text}${pad}`), { host, port });
    });
  });

  test('any text: a port 1-65535, or one clear error naming TRACE_ADDR', () => {
    check(junk([mutated(address.map((a) => a.text)), tokenText(['localhost', ':', '[', ']', '::1', '6666', '0', '65536', '99999', ' ', '.', '-'])]), (text) => {
      const outcome = attempt(() => parseTraceAddr(text));
      if (outcome.ok) {
        assert.ok(Number.isInteger(outcome.value.port) && outcome.value.port >= 1 && outcome.value.port <= 65535);
        assert.ok(outcome.value.host.length > 0);
      } else {
        const message = expectClearError(outcome.error, Infinity);
        assert.match(message, /^TRACE_ADDR ".*" is invalid: expected host:port with port 1-65535$/s);
        assert.ok(!message.includes('\n'));
      }
    });
  });
});
