// Reads the variables a Campaign customer.sh exports, WITHOUT running it. customer.sh is a POSIX shell
// fragment sourced by env.sh before nlserver starts; it sets TRACE_ADDR, XTK_VAR_DIR, TMPDIR, JDK_HOME...
// Only literal values are taken. Anything whose value would need the shell (command substitution, `$VAR`,
// `~`, a condition, a loop, a function, a sourced file) is reported as "not evaluated" instead of guessed.
// Notes never repeat values: customer.sh may hold credentials (ORACLE passwords and the like).

import { isIPv6 } from 'node:net';

/** A variable (or a line) whose effect could not be known without running the script. */
export interface ShellSkip {
  line: number;
  /** The variable concerned, when there is one. */
  name?: string;
  reason: string;
}

export interface CustomerSh {
  /** Exported variables with a literal value, as they stand at the end of the file. */
  vars: Record<string, string>;
  /** One line per thing not evaluated, naming the file and line; never the value. */
  notes: string[];
  /** The same as `notes`, structured. */
  skipped: ShellSkip[];
}

interface Word {
  text: string;
  /** Why the word's value is not known without a shell (first reason found). */
  unknown?: string;
  line: number;
}

type Token =
  | { kind: 'word'; word: Word }
  | { kind: 'op'; op: string; line: number }
  | { kind: 'sep'; line: number };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=/;
const ASSIGNMENT_HEAD = /^[A-Za-z_][A-Za-z0-9_]*=$/;

/** Splits shell text into words, operators and command separators, with quoting and line numbers. */
function lex(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let buf = '';
  let inWord = false;
  let unknown: string | undefined;
  let wordLine = 1;
  /** Index in `text` where the current word starts. */
  let wordStart = 0;
  /** Whether the current word was checked for a `NAME=` head: that is true at one `=` at most. */
  let headChecked = false;
  let i = 0;
  /** Here-documents announced on the current line, bodies skipped at its end: [delimiter, strip tabs]. */
  const heredocs: Array<[string, boolean]> = [];

  const start = (): void => {
    if (!inWord) {
      inWord = true;
      wordLine = line;
      wordStart = i;
      headChecked = false;
    }
  };
  const mark = (reason: string): void => {
    unknown ??= reason;
  };
  const flush = (): void => {
    if (inWord) tokens.push({ kind: 'word', word: { text: buf, unknown, line: wordLine } });
    buf = '';
    inWord = false;
    unknown = undefined;
  };
  /**
   * Whether the word so far is `NAME=` (so a `~` here expands). Only the first `=` of a word can end such a
   * head, so the word is tested once, as written: testing every `~` of a long word was quadratic.
   */
  const assignmentHead = (): boolean => {
    if (headChecked || text[i - 1] !== '=') return false;
    headChecked = true;
    return ASSIGNMENT_HEAD.test(text.slice(wordStart, i));
  };
  const countLines = (from: number, to: number): void => {
    for (let k = from; k < to && k < text.length; k++) if (text[k] === '\n') line++;
  };
  /** Index just past the `close` matching the `open` at `from`, skipping quoted text; text.length if none. */
  const skipBalanced = (from: number, open: string, close: string): number => {
    let depth = 0;
    let k = from;
    while (k < text.length) {
      const ch = text[k];
      if (ch === '\\') {
        k += 2;
        continue;
      }
      if (ch === "'" || ch === '"') {
        const end = text.indexOf(ch, k + 1);
        k = end < 0 ? text.length : end + 1;
        continue;
      }
      if (ch === open) depth++;
      else if (ch === close && --depth === 0) return k + 1;
      k++;
    }
    return text.length;
  };
  /** Handles a `$` at index i (inside or outside double quotes); returns the index after it. */
  const dollar = (at: number): number => {
    const next = text[at + 1] ?? '';
    let end: number;
    if (next === '(') {
      end = skipBalanced(at + 1, '(', ')');
      mark('command substitution');
    } else if (next === '{') {
      end = skipBalanced(at + 1, '{', '}');
      mark('variable expansion');
    } else if (/[A-Za-z_]/.test(next)) {
      end = at + 1;
      while (end < text.length && /[A-Za-z0-9_]/.test(text[end] ?? '')) end++;
      mark('variable expansion');
    } else if (/[0-9@*#?$!-]/.test(next)) {
      end = at + 2;
      mark('variable expansion');
    } else if (next === "'") {
      const close = text.indexOf("'", at + 2);
      end = close < 0 ? text.length : close + 1;
      mark('$\'...\' quoting');
    } else {
      buf += '$';
      return at + 1;
    }
    countLines(at, end);
    buf += text.slice(at, end);
    return end;
  };
  const backtick = (at: number): number => {
    let k = at + 1;
    while (k < text.length && text[k] !== '`') k += text[k] === '\\' ? 2 : 1;
    const end = Math.min(k + 1, text.length);
    countLines(at, end);
    mark('command substitution');
    buf += text.slice(at, end);
    return end;
  };

  while (i < text.length) {
    const c = text[i] as string;
    if (c === '\\') {
      const next = text[i + 1];
      if (next === '\n') {
        line++;
        i += 2;
        continue;
      }
      start();
      if (next !== undefined) buf += next;
      i += 2;
    } else if (c === "'") {
      start();
      const end = text.indexOf("'", i + 1);
      if (end < 0) mark('unterminated quote');
      const stop = end < 0 ? text.length : end;
      buf += text.slice(i + 1, stop);
      countLines(i, stop);
      i = stop + 1;
    } else if (c === '"') {
      start();
      i++;
      let closed = false;
      while (i < text.length) {
        const ch = text[i] as string;
        if (ch === '"') {
          closed = true;
          i++;
          break;
        }
        if (ch === '\\') {
          const next = text[i + 1] ?? '';
          if (next === '\n') {
            line++;
            i += 2;
          } else if ('$`"\\'.includes(next) && next !== '') {
            buf += next;
            i += 2;
          } else {
            buf += '\\';
            i++;
          }
        } else if (ch === '$') {
          i = dollar(i);
        } else if (ch === '`') {
          i = backtick(i);
        } else {
          if (ch === '\n') line++;
          buf += ch;
          i++;
        }
      }
      if (!closed) mark('unterminated quote');
    } else if (c === '$') {
      start();
      i = dollar(i);
    } else if (c === '`') {
      start();
      i = backtick(i);
    } else if (c === '#' && !inWord) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '\n') {
      flush();
      tokens.push({ kind: 'sep', line });
      line++;
      i++;
      for (const [delimiter, stripTabs] of heredocs.splice(0)) {
        // Skip the body, up to and including the delimiter line.
        while (i < text.length) {
          const eol = text.indexOf('\n', i);
          const end = eol < 0 ? text.length : eol;
          const bodyLine = text.slice(i, end);
          i = end + 1;
          line++;
          if ((stripTabs ? bodyLine.replace(/^\t+/, '') : bodyLine) === delimiter) break;
        }
      }
    } else if (c === ' ' || c === '\t' || c === '\r') {
      flush();
      i++;
    } else if (c === ';') {
      flush();
      tokens.push({ kind: 'sep', line });
      i += text[i + 1] === ';' ? 2 : 1;
    } else if (c === '&' || c === '|') {
      flush();
      const op = text[i + 1] === c ? c + c : c;
      tokens.push({ kind: 'op', op, line });
      i += op.length;
    } else if (c === '(' || c === ')') {
      flush();
      tokens.push({ kind: 'op', op: c, line });
      i++;
    } else if (c === '<' || c === '>') {
      flush();
      if (c === '<' && text[i + 1] === '<' && text[i + 2] !== '<') {
        // Here-document: `<<WORD` or `<<-WORD`, WORD possibly quoted.
        const stripTabs = text[i + 2] === '-';
        const m = /^[ \t]*(['"]?)([^\s;&|<>()'"]+)\1/.exec(text.slice(i + (stripTabs ? 3 : 2)));
        if (m) {
          heredocs.push([m[2] as string, stripTabs]);
          i += (stripTabs ? 3 : 2) + m[0].length;
          continue;
        }
      }
      tokens.push({ kind: 'op', op: 'redirect', line });
      i++;
      while (text[i] === '<' || text[i] === '>' || text[i] === '&') i++;
    } else {
      if (c === '~' && (!inWord || assignmentHead())) mark('tilde expansion');
      start();
      buf += c;
      i++;
    }
  }
  flush();
  return tokens;
}

interface Command {
  words: Word[];
  line: number;
  /** Runs only under a condition, in a subshell or in the background: its assignments are not certain. */
  uncertain: boolean;
}

/** Groups tokens into simple commands, tracking `&&`, `||`, pipes, subshells and function headers. */
function commands(tokens: Token[]): Array<Command | { open: '(' } | { close: ')' }> {
  const out: Array<Command | { open: '(' } | { close: ')' }> = [];
  let current: Command | undefined;
  let nextUncertain = false;
  const finish = (): void => {
    if (current && current.words.length > 0) out.push(current);
    current = undefined;
  };
  for (let t = 0; t < tokens.length; t++) {
    const tok = tokens[t] as Token;
    if (tok.kind === 'word') {
      if (!current) {
        current = { words: [], line: tok.word.line, uncertain: nextUncertain };
        nextUncertain = false;
      }
      current.words.push(tok.word);
    } else if (tok.kind === 'sep') {
      finish();
      nextUncertain = false;
    } else if (tok.op === '&&' || tok.op === '||') {
      finish();
      nextUncertain = true;
    } else if (tok.op === '|') {
      if (current) current.uncertain = true;
      finish();
      nextUncertain = true;
    } else if (tok.op === '&') {
      if (current) current.uncertain = true;
      finish();
    } else if (tok.op === 'redirect') {
      if (tokens[t + 1]?.kind === 'word') t++; // the redirection target is not an argument
    } else if (tok.op === '(') {
      const next = tokens[t + 1];
      if (next?.kind === 'op' && next.op === ')') {
        current = undefined; // `name()` function header: the body `{ ... }` follows
        t++;
      } else {
        finish();
        out.push({ open: '(' });
      }
    } else if (tok.op === ')') {
      finish();
      out.push({ close: ')' });
    }
  }
  finish();
  return out;
}

/** Parses customer.sh text; `file` only names the file in notes. Never throws on odd shell. */
export function parseCustomerSh(text: string, file: string): CustomerSh {
  /** Current value per variable; undefined = set to something not known without a shell. */
  const values = new Map<string, string | undefined>();
  const assignedAt = new Map<string, number>();
  const exported = new Set<string>();
  const skipped: ShellSkip[] = [];
  let allexport = false;
  const blocks: string[] = [];

  const assign = (name: string, word: Word, exportIt: boolean, uncertain: boolean): void => {
    if (uncertain) {
      values.set(name, undefined);
      skipped.push({ line: word.line, name, reason: 'set inside an if, case, loop, function, subshell or && / || list' });
    } else if (word.unknown !== undefined) {
      values.set(name, undefined);
      skipped.push({ line: word.line, name, reason: `uses ${word.unknown}` });
    } else {
      values.set(name, word.text.slice(name.length + 1));
    }
    assignedAt.set(name, word.line);
    if (exportIt || allexport) exported.add(name);
  };

  /** `export`, `declare`, `typeset`, `readonly`, `local` arguments. */
  const declaration = (args: Word[], mode: 'export' | 'plain', uncertain: boolean): void => {
    let effect: 'export' | 'unexport' | 'plain' = mode;
    for (const w of args) {
      if (/^[-+][A-Za-z]+$/.test(w.text)) {
        if (w.text.includes('f')) return; // functions, not variables
        if (w.text.startsWith('-') && w.text.includes('n') && mode === 'export') effect = 'unexport';
        else if (w.text.includes('x')) effect = w.text.startsWith('-') ? 'export' : 'unexport';
        continue;
      }
      const m = ASSIGNMENT.exec(w.text);
      if (m) {
        const name = m[1] as string;
        assign(name, w, effect === 'export', uncertain);
        if (effect === 'unexport' && !uncertain) exported.delete(name);
      } else if (NAME.test(w.text) && w.unknown === undefined && !uncertain) {
        if (effect === 'export') exported.add(w.text);
        else if (effect === 'unexport') exported.delete(w.text);
      }
    }
  };

  for (const item of commands(lex(text))) {
    if ('open' in item) {
      blocks.push('(');
      continue;
    }
    if ('close' in item) {
      if (blocks[blocks.length - 1] === '(') blocks.pop(); // else a `case` pattern's `)`
      continue;
    }
    let words = item.words;
    // Reserved words at the start of a command open or close blocks; whatever follows them is a command.
    for (;;) {
      const first = words[0];
      if (first === undefined || first.unknown !== undefined) break;
      const kw = first.text;
      if (kw === 'if' || kw === 'while' || kw === 'until' || kw === 'for' || kw === 'select' || kw === 'case') {
        blocks.push(kw);
        words = [];
      } else if (kw === 'elif') {
        words = [];
      } else if (kw === 'then' || kw === 'do' || kw === 'else' || kw === '!') {
        words = words.slice(1);
      } else if (kw === 'fi' || kw === 'done' || kw === 'esac' || kw === '}') {
        blocks.pop();
        words = words.slice(1);
      } else if (kw === '{') {
        blocks.push('{');
        words = words.slice(1);
      } else if (kw === 'function') {
        words = words.slice(2);
      } else {
        break;
      }
    }
    const first = words[0];
    if (first === undefined) continue;
    const uncertain = item.uncertain || blocks.length > 0;
    const args = words.slice(1);
    const cmd = first.unknown === undefined ? first.text : undefined;

    if (cmd === 'export') {
      declaration(args, 'export', uncertain);
    } else if (cmd === 'declare' || cmd === 'typeset' || cmd === 'readonly' || cmd === 'local') {
      declaration(args, 'plain', uncertain || cmd === 'local');
    } else if (cmd === 'unset') {
      if (uncertain || args.some((w) => w.text === '-f')) continue;
      for (const w of args) {
        if (!NAME.test(w.text)) continue;
        values.delete(w.text);
        exported.delete(w.text);
        assignedAt.delete(w.text);
        // Earlier notes about it no longer matter: it ends up unset here.
        for (let k = skipped.length - 1; k >= 0; k--) if (skipped[k]?.name === w.text) skipped.splice(k, 1);
      }
    } else if (cmd === 'set') {
      if (uncertain) continue;
      for (let k = 0; k < args.length; k++) {
        const a = (args[k] as Word).text;
        if (a === '-o' || a === '+o') {
          if (args[k + 1]?.text === 'allexport') allexport = a === '-o';
          k++;
        } else if (/^[-+][A-Za-z]*a/.test(a)) {
          allexport = a.startsWith('-');
        }
      }
    } else if (cmd === '.' || cmd === 'source') {
      const target = args[0];
      const what = target && target.unknown === undefined ? notedPath(target.text) : 'a computed path';
      skipped.push({ line: first.line, reason: `sources ${what}, not followed` });
    } else if (cmd === 'eval') {
      skipped.push({ line: first.line, reason: 'eval is not evaluated' });
    } else if (words.every((w) => ASSIGNMENT.test(w.text))) {
      for (const w of words) assign((ASSIGNMENT.exec(w.text) as RegExpExecArray)[1] as string, w, false, uncertain);
    }
    // Anything else (`ulimit`, `umask`, `A=1 cmd`...) does not change the exported environment.
  }

  const entries: Array<[string, string]> = [];
  for (const name of [...exported].sort()) {
    const value = values.get(name);
    if (value !== undefined) entries.push([name, value]);
  }
  // fromEntries defines own properties: a variable called `__proto__` stays a plain key.
  const vars: Record<string, string> = Object.fromEntries(entries);
  for (const [name, line] of assignedAt) {
    if (!exported.has(name) && values.get(name) !== undefined) {
      skipped.push({ line, name, reason: 'assigned but never exported, so nlserver does not see it' });
    }
  }
  // A variable that ends up with a known value needs no note about an earlier unknown one.
  const kept = skipped
    .filter((s) => s.name === undefined || !Object.hasOwn(vars, s.name) || s.reason.startsWith('assigned but'))
    .sort((a, b) => a.line - b.line);
  const notes = kept.map((s) =>
    s.name === undefined ? `${file} line ${s.line}: ${s.reason}` : noteFor(file, s),
  );
  return { vars, notes, skipped: kept };
}

/** A sourced path as a note quotes it: as written when plain, else JSON-quoted and cut (one short line). */
function notedPath(text: string): string {
  if (/^[\x21-\x7e]{1,120}$/.test(text)) return text;
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}...` : text);
}

function noteFor(file: string, s: ShellSkip): string {
  if (s.reason.startsWith('assigned but')) return `${file} line ${s.line}: ${s.name} is ${s.reason}; ignored`;
  return `${file} line ${s.line}: ${s.name} not evaluated (${s.reason})`;
}

/** The syslogd port every module logs to when TRACE_ADDR does not name one. */
export const DEFAULT_TRACE_PORT = 6666;

/**
 * Parses a TRACE_ADDR value: `host:port`, `[ipv6]:port`, `host` (port 6666), a bare IPv6 address
 * (port 6666) or a bare port (host `localhost`). Throws an Error naming TRACE_ADDR, the value and what was
 * expected when it cannot be used.
 */
export function parseTraceAddr(value: string): { host: string; port: number } {
  const invalid = (): Error =>
    new Error(`TRACE_ADDR ${JSON.stringify(value)} is invalid: expected host:port with port 1-65535`);
  const v = value.trim();
  if (v === '') throw invalid();

  let host: string;
  let portText: string | undefined;
  if (/^\d+$/.test(v)) {
    host = 'localhost';
    portText = v;
  } else if (v.startsWith('[')) {
    const m = /^\[([^\]]+)\](?::(.*))?$/.exec(v);
    if (!m || !isIPv6(m[1] as string)) throw invalid();
    host = m[1] as string;
    portText = m[2];
  } else {
    const colons = v.split(':').length - 1;
    if (colons > 1) {
      // A bare IPv6 address: no port can be told apart from it.
      if (!isIPv6(v)) throw invalid();
      host = v;
    } else {
      const at = v.indexOf(':');
      host = at < 0 ? v : v.slice(0, at);
      portText = at < 0 ? undefined : v.slice(at + 1);
      if (!/^[A-Za-z0-9_.-]+$/.test(host)) throw invalid();
    }
  }
  if (portText === undefined) return { host, port: DEFAULT_TRACE_PORT };
  if (!/^\d{1,5}$/.test(portText)) throw invalid();
  const port = Number(portText);
  if (port < 1 || port > 65535) throw invalid();
  return { host, port };
}
