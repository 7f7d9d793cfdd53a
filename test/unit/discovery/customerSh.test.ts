import { describe, expect, test } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { parseCustomerSh, parseTraceAddr } from '../../../src/discovery/customerSh.js';

const F = '/x/customer.sh';
const vars = (text: string): Record<string, string> => parseCustomerSh(text, F).vars;

describe('parseCustomerSh: literal values', () => {
  test.each([
    ['export TRACE_ADDR=localhost:6667', 'localhost:6667'],
    ['export TRACE_ADDR="127.0.0.1:6667"', '127.0.0.1:6667'],
    ["export TRACE_ADDR='127.0.0.1:6667'", '127.0.0.1:6667'],
    ['   export   TRACE_ADDR=localhost:6667   # syslogd moved', 'localhost:6667'],
    ['TRACE_ADDR="127.0.0.1:6667"; export TRACE_ADDR', '127.0.0.1:6667'],
    ['export TRACE_ADDR\nTRACE_ADDR=localhost:7000', 'localhost:7000'],
    ['export TRACE_ADDR=localhost:1\nexport TRACE_ADDR=localhost:2', 'localhost:2'],
    ['export TRACE_ADDR=local\\\nhost:6667', 'localhost:6667'],
    ['export TRACE_ADDR="local"host:"66"67', 'localhost:6667'],
    ['declare -x TRACE_ADDR=localhost:6667', 'localhost:6667'],
  ])('%j', (text, expected) => {
    const r = parseCustomerSh(text, F);
    expect(r.vars.TRACE_ADDR).toBe(expected);
    expect(r.notes).toEqual([]);
  });

  test('a realistic file: comments, blank lines, several forms, export later', () => {
    const text = [
      '#!/bin/sh',
      '# customer.sh: site overrides',
      '',
      'export TMPDIR=/usr/local/neolane/nl6/var/tmp',
      'XTK_VAR_DIR="/var/nl6"',
      "export JDK_HOME='/usr/lib/jvm/java-17'   # JDK for Tomcat",
      '# export TRACE_ADDR=localhost:9999',
      'export A=1 B=two C="x y" D=a#b',
      'ulimit -n 4096',
      'export XTK_VAR_DIR',
      '',
    ].join('\n');
    expect(parseCustomerSh(text, F)).toEqual({
      vars: {
        A: '1',
        B: 'two',
        C: 'x y',
        D: 'a#b',
        JDK_HOME: '/usr/lib/jvm/java-17',
        TMPDIR: '/usr/local/neolane/nl6/var/tmp',
        XTK_VAR_DIR: '/var/nl6',
      },
      notes: [],
      skipped: [],
    });
  });

  test('single quotes keep $ and backticks literal; escaped $ in double quotes is literal', () => {
    expect(vars(`export A='$HOME/\`x\`' B="\\$HOME" C=\\$HOME`)).toEqual({ A: '$HOME/`x`', B: '$HOME', C: '$HOME' });
  });

  test('a lone $ is literal', () => {
    expect(vars('export A="cost $ 5" B=x$')).toEqual({ A: 'cost $ 5', B: 'x$' });
  });

  test('multi-line quoted values', () => {
    expect(vars('export A="one\ntwo"\nexport B=3')).toEqual({ A: 'one\ntwo', B: '3' });
  });

  test('unset removes a variable, set -a exports plain assignments', () => {
    expect(vars('export A=1 B=2\nunset A\nset -a\nC=3\nset +a\nD=4')).toEqual({ B: '2', C: '3' });
  });

  test('unset after an unknown value leaves neither value nor note', () => {
    expect(parseCustomerSh('export TRACE_ADDR=$(hostname)\nunset TRACE_ADDR', F)).toEqual({ vars: {}, notes: [], skipped: [] });
  });

  test('export -n stops exporting', () => {
    expect(vars('export A=1 B=2\nexport -n A')).toEqual({ B: '2' });
  });

  test('a here-document body is not read as commands', () => {
    expect(vars("cat > /tmp/x <<'EOF'\nexport TRACE_ADDR=localhost:1\nEOF\nexport B=2")).toEqual({ B: '2' });
  });

  test('assignments before a command only affect that command', () => {
    expect(vars('TRACE_ADDR=localhost:1 /bin/true\nexport B=2')).toEqual({ B: '2' });
  });
});

describe('parseCustomerSh: what is not evaluated', () => {
  test.each([
    ['export TRACE_ADDR=$(hostname):6667', 'command substitution'],
    ['export TRACE_ADDR="$(hostname):6667"', 'command substitution'],
    ['export TRACE_ADDR=`hostname`:6667', 'command substitution'],
    ['export TRACE_ADDR=$HOST:6667', 'variable expansion'],
    ['export TRACE_ADDR="${HOST}:6667"', 'variable expansion'],
    ['export TRACE_ADDR=localhost:$1', 'variable expansion'],
    ['export TRACE_ADDR=~/x', 'tilde expansion'],
    ["export TRACE_ADDR=$'a\\tb'", "$'...' quoting"],
    ['export TRACE_ADDR="localhost:6667', 'unterminated quote'],
  ])('%j is noted, never guessed', (text, reason) => {
    const r = parseCustomerSh(text, F);
    expect(r.vars).toEqual({});
    expect(r.notes).toEqual([`/x/customer.sh line 1: TRACE_ADDR not evaluated (uses ${reason})`]);
  });

  test('conditional and compound forms are noted with their line', () => {
    const text = [
      'export A=1', // 1
      'if [ -d /var/nl6 ]; then', // 2
      '  export XTK_VAR_DIR=/var/nl6', // 3
      'fi', // 4
      '[ -n "$X" ] && export TRACE_ADDR=localhost:1', // 5
      'setup() {', // 6
      '  export B=2', // 7
      '}', // 8
      '(export C=3)', // 9
      'case "$HOSTNAME" in', // 10
      '  web*) export D=4 ;;', // 11
      'esac', // 12
      'for i in 1 2; do export E=$i; done', // 13
      'export F=6', // 14
    ].join('\n');
    const r = parseCustomerSh(text, F);
    expect(r.vars).toEqual({ A: '1', F: '6' });
    const reason = 'not evaluated (set inside an if, case, loop, function, subshell or && / || list)';
    expect(r.notes).toEqual([
      `/x/customer.sh line 3: XTK_VAR_DIR ${reason}`,
      `/x/customer.sh line 5: TRACE_ADDR ${reason}`,
      `/x/customer.sh line 7: B ${reason}`,
      `/x/customer.sh line 9: C ${reason}`,
      `/x/customer.sh line 11: D ${reason}`,
      `/x/customer.sh line 13: E ${reason}`,
    ]);
  });

  test('an unknown value makes an earlier known one unknown too', () => {
    const r = parseCustomerSh('export TRACE_ADDR=localhost:6667\nexport TRACE_ADDR=$(cat /etc/trace)', F);
    expect(r.vars).toEqual({});
    expect(r.notes).toEqual(['/x/customer.sh line 2: TRACE_ADDR not evaluated (uses command substitution)']);
  });

  test('a later literal value settles an earlier unknown one: no note left', () => {
    const r = parseCustomerSh('export TRACE_ADDR=$(hostname):1\n\nexport TRACE_ADDR=localhost:6667', F);
    expect(r.vars).toEqual({ TRACE_ADDR: 'localhost:6667' });
    expect(r.notes).toEqual([]);
  });

  test('a value assigned but never exported is not taken', () => {
    const r = parseCustomerSh('# no export\nTRACE_ADDR=localhost:6667', F);
    expect(r.vars).toEqual({});
    expect(r.notes).toEqual([
      '/x/customer.sh line 2: TRACE_ADDR is assigned but never exported, so nlserver does not see it; ignored',
    ]);
  });

  test('sourced files and eval are noted, not followed', () => {
    const r = parseCustomerSh('. /etc/campaign/site.sh\nsource "$HOME/x.sh"\neval "export A=1"', F);
    expect(r.vars).toEqual({});
    expect(r.notes).toEqual([
      '/x/customer.sh line 1: sources /etc/campaign/site.sh, not followed',
      '/x/customer.sh line 2: sources a computed path, not followed',
      '/x/customer.sh line 3: eval is not evaluated',
    ]);
  });

  test('notes never repeat a value', () => {
    const r = parseCustomerSh('export DB_PASSWORD=$(cat /run/SECRET-FILE)\nORA_PWD=SECRET-VALUE', F);
    expect(JSON.stringify(r.notes)).not.toContain('SECRET');
    expect(r.notes).toHaveLength(2);
  });

  test('command substitution spanning parentheses and lines does not confuse what follows', () => {
    const r = parseCustomerSh('export A="$(echo ")" ; echo (x)\n)"\nexport B=2', F);
    expect(r.vars).toEqual({ B: '2' });
    expect(r.notes).toEqual(['/x/customer.sh line 1: A not evaluated (uses command substitution)']);
  });
});

describe('parseCustomerSh: fuzz counterexamples', () => {
  test('a long word full of tildes is read in linear time (found by test/fuzz/customerSh.test.ts)', () => {
    // Each `~` re-tested the whole word for a `NAME=` head: quadratic (2.5 s and 1.4 s for the first two before the fix).
    for (const text of ['a'.repeat(50_000) + '~'.repeat(50_000), 'Ā~\u0000'.repeat(33_000), 'A=' + 'a'.repeat(50_000) + '=~'.repeat(25_000)]) {
      // The fastest of three runs (tens of ms each): a loaded machine may pause one, a quadratic loop is slow every time.
      const runs = [0, 1, 2].map(() => {
        const started = performance.now();
        parseCustomerSh(text, F);
        return performance.now() - started;
      });
      expect(Math.min(...runs)).toBeLessThan(1000);
    }
    // The head test itself is unchanged.
    expect(parseCustomerSh('export A=~/x B=x~ C=x=~', F).notes).toEqual([`${F} line 1: A not evaluated (uses tilde expansion)`]);
    expect(vars('export B=x~ C=x=~')).toEqual({ B: 'x~', C: 'x=~' });
  });

  test('a sourced path with a line break is quoted: the note stays one line', () => {
    expect(parseCustomerSh('. ./env.sh"\n"', F).notes).toEqual([`${F} line 1: sources "./env.sh\\n", not followed`]);
    const long = `/x/${'y'.repeat(300)}`;
    expect(parseCustomerSh(`. ${long}`, F).notes[0]).toBe(`${F} line 1: sources ${JSON.stringify(`${long.slice(0, 120)}...`)}, not followed`);
  });
});

describe('parseTraceAddr', () => {
  test.each([
    ['localhost:6667', { host: 'localhost', port: 6667 }],
    [' 127.0.0.1:6667 ', { host: '127.0.0.1', port: 6667 }],
    ['[::1]:6667', { host: '::1', port: 6667 }],
    ['[::1]', { host: '::1', port: 6666 }],
    ['::1', { host: '::1', port: 6666 }],
    ['localhost', { host: 'localhost', port: 6666 }],
    ['log-host.example.com:65535', { host: 'log-host.example.com', port: 65535 }],
    ['6667', { host: 'localhost', port: 6667 }],
  ])('%j', (value, expected) => {
    expect(parseTraceAddr(value)).toEqual(expected);
  });

  test.each(['localhost:99999', 'localhost:0', 'localhost:', 'localhost:66a', ':6667', 'local host:1', '', '[::1]:70000', 'a:b:c', '99999'])(
    '%j is rejected with a message naming TRACE_ADDR, the value and what is expected',
    (value) => {
      expect(() => parseTraceAddr(value)).toThrow(
        new Error(`TRACE_ADDR ${JSON.stringify(value)} is invalid: expected host:port with port 1-65535`),
      );
    },
  );

  test('exact message for a port out of range', () => {
    expect(() => parseTraceAddr('localhost:99999')).toThrow(
      'TRACE_ADDR "localhost:99999" is invalid: expected host:port with port 1-65535',
    );
  });
});
