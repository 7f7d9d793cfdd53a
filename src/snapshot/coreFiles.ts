import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { procPath, readText, reason } from './procfs.js';

/**
 * Where the kernel writes core dumps, from kernel.core_pattern (core(5)). Campaign's docs do not say
 * where its cores land, so the agent follows the kernel's own setting.
 */
export type CorePattern =
  /** `|/usr/lib/systemd/systemd-coredump ...`: cores go to a program's stdin, not to files we can count. */
  | { kind: 'piped'; handler: string }
  /** `/var/crash/core.%e.%p`: one directory for every process. */
  | { kind: 'absolute'; dir: string; name: RegExp }
  /** `core`, `core.%p`: the crashing process's working directory, `dir` relative to it ('.' mostly). */
  | { kind: 'relative'; dir: string; name: RegExp }
  /** A pattern whose directory varies per process, or whose file names cannot be told from others. */
  | { kind: 'uncountable'; reason: string };

/** core(5) specifiers that always expand to digits (pid, uid, signal, time...). */
const NUMERIC_SPECIFIERS = new Set(['c', 'd', 'g', 'i', 'I', 'p', 'P', 's', 't', 'u']);

const MAX_PATTERN_CHARS = 4096;

export function parseCorePattern(text: string): CorePattern {
  const pattern = text.replace(/\n$/, '');
  if (pattern.startsWith('|')) {
    return { kind: 'piped', handler: pattern.slice(1).trim().split(/\s+/)[0] || '(no program)' };
  }
  if (pattern.trim() === '') return { kind: 'uncountable', reason: 'core_pattern is empty' };
  // The kernel keeps 127 characters; far more is not its file (and would make a regex too large to compile).
  if (pattern.length > MAX_PATTERN_CHARS) {
    return { kind: 'uncountable', reason: `core_pattern is ${pattern.length} characters long, not a pattern the kernel writes` };
  }
  const dir = path.dirname(pattern);
  if (dir.includes('%')) {
    return { kind: 'uncountable', reason: `core dump directory varies per process (${pattern})` };
  }
  const basename = path.basename(pattern);
  if (path.isAbsolute(pattern)) return { kind: 'absolute', dir, name: coreFileName(basename) };
  // Only a dedicated directory may hold names made of specifiers alone: in a working directory such
  // as the install dir, `%e.%p` would count nlserver's own files.
  if (!hasFixedText(basename)) {
    return { kind: 'uncountable', reason: `core file names (${pattern}) cannot be told apart from other files` };
  }
  return { kind: 'relative', dir, name: coreFileName(basename) };
}

/** Whether a name keeps text of its own, dots aside, once the specifiers are taken out (`%%` is text). */
function hasFixedText(basename: string): boolean {
  return /[^.]/.test(basename.replace(/%([\s\S]|$)/g, (_, specifier: string) => (specifier === '%' ? '%' : '')));
}

/**
 * The file names a core_pattern basename produces, as a regex: `core` → /^core(\.\d+)?$/ (the kernel
 * appends `.<pid>` when kernel.core_uses_pid is 1 and the pattern has no %p), `core.%e.%p` →
 * /^core\.[^/]+\.\d+$/.
 *
 * The regex is tested against every file of a directory, so it must not backtrack without bound: two
 * name specifiers (`[^/]+`, which can swallow the text between them) make a failing match polynomial in
 * the name's length with one degree per specifier (`core%e.%e.%e...` ran for minutes). Everything from the
 * first name specifier to the last becomes one `[^/]+`, and adjacent numeric ones one `\d{n,}`: a slightly
 * wider match for exotic patterns, the exact one for the usual `core.%e.%p`.
 */
export function coreFileName(basename: string): RegExp {
  type Piece = { kind: 'text'; text: string } | { kind: 'digits' } | { kind: 'name' };
  const pieces: Piece[] = [];
  const addText = (text: string): void => {
    const last = pieces[pieces.length - 1];
    if (last?.kind === 'text') last.text += text;
    else pieces.push({ kind: 'text', text });
  };
  let hasPid = false;
  for (let i = 0; i < basename.length; i++) {
    const char = basename[i]!;
    if (char !== '%') {
      addText(char);
      continue;
    }
    const specifier = basename[++i];
    if (specifier === undefined) break; // a trailing lone % is dropped by the kernel
    if (specifier === '%') {
      addText('%');
    } else {
      hasPid ||= specifier === 'p';
      pieces.push({ kind: NUMERIC_SPECIFIERS.has(specifier) ? 'digits' : 'name' });
    }
  }
  const first = pieces.findIndex((p) => p.kind === 'name');
  const last = pieces.map((p) => p.kind).lastIndexOf('name');
  const merged: Piece[] = first < 0 ? pieces : [...pieces.slice(0, first), { kind: 'name' }, ...pieces.slice(last + 1)];
  let source = '';
  for (let j = 0; j < merged.length; j++) {
    const piece = merged[j]!;
    if (piece.kind === 'text') source += [...piece.text].map(escape).join('');
    else if (piece.kind === 'name') source += '[^/]+';
    else {
      // A run of numeric specifiers, digits written between them included: one `\d{n,}`.
      let min = 1;
      while (merged[j + 1]?.kind === 'digits' || (isDigitText(merged[j + 1]) && merged[j + 2]?.kind === 'digits')) {
        const next = merged[++j]!;
        min += next.kind === 'text' ? next.text.length : 1;
      }
      source += min === 1 ? '\\d+' : `\\d{${min},}`;
    }
  }
  return new RegExp(`^${source}${hasPid ? '' : '(\\.\\d+)?'}$`);
}

function isDigitText(piece: { kind: string; text?: string } | undefined): boolean {
  return piece?.kind === 'text' && /^\d+$/.test(piece.text ?? '');
}

function escape(char: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(char) ? `\\${char}` : char;
}

export async function readCorePattern(procRoot = '/proc'): Promise<CorePattern> {
  return parseCorePattern(await readText(procPath(procRoot, 'sys/kernel/core_pattern')));
}

/**
 * Directories to search: the pattern's own for an absolute pattern; for a relative one the working
 * directory of the crashed process, which for nlserver modules is the install dir. `extraDirs`
 * (config `coreDirs`) are searched in both cases.
 */
export function coreDirectories(pattern: CorePattern, installDir: string, extraDirs: readonly string[]): string[] {
  if (pattern.kind === 'piped' || pattern.kind === 'uncountable') return [];
  const bases = pattern.kind === 'absolute' ? [pattern.dir, ...extraDirs] : [installDir, ...extraDirs].map((base) => path.join(base, pattern.dir));
  return [...new Set(bases.map((dir) => path.resolve(dir)))];
}

/** Regular files named like cores in `dirs`, full paths, sorted; a directory that cannot be read fails naming it. */
export async function listCoreFiles(dirs: readonly string[], name: RegExp): Promise<string[]> {
  const found: string[] = [];
  for (const dir of dirs) {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      throw new Error(`cannot read core directory ${dir}: ${reason(error)}`);
    }
    for (const entry of entries) if (entry.isFile() && name.test(entry.name)) found.push(path.join(dir, entry.name));
  }
  return found.sort();
}

export type CoreFiles =
  | { kind: 'piped'; handler: string }
  | { kind: 'uncountable'; reason: string }
  | { kind: 'counted'; files: string[]; dirs: string[] };

/** Reads core_pattern, then counts the core files where that pattern puts them. */
export async function findCoreFiles(opts: { procRoot?: string; installDir: string; extraDirs?: readonly string[] }): Promise<CoreFiles> {
  const pattern = await readCorePattern(opts.procRoot);
  if (pattern.kind === 'piped' || pattern.kind === 'uncountable') return pattern;
  const dirs = coreDirectories(pattern, opts.installDir, opts.extraDirs ?? []);
  return { kind: 'counted', files: await listCoreFiles(dirs, pattern.name), dirs };
}
