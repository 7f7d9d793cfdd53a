import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML, { Lexer, LineCounter, Parser, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { BUNDLE, projectRoot } from '../util/paths.js';
import { buildConfigSchema, RENAMED_MODULE_KEYS, type AgentConfig, type ModuleConfigSource } from './schema.js';

/** A config that cannot be used; `problems` each name the file, the key and what was expected. */
export class ConfigError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/**
 * The default config: config/agent.yaml of the package, or inside the single-file bundle the copy of it
 * the bundle carries (no file to read there), named so that messages still say where it came from.
 */
export const EMBEDDED_CONFIG = BUNDLE ? 'embedded:config/agent.yaml' : path.join(projectRoot(), 'config', 'agent.yaml');

export interface LoadedConfig {
  config: AgentConfig;
  file: string;
}

export async function loadConfig(plugins: readonly ModuleConfigSource[], file: string = EMBEDDED_CONFIG): Promise<LoadedConfig> {
  let text: string;
  try {
    text = BUNDLE && file === EMBEDDED_CONFIG ? BUNDLE.defaultConfig : await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError(file, [`${file}: cannot read the config file (${code})`]);
  }
  return { config: parseConfig(plugins, text, file), file };
}

/**
 * A config is a few KiB (the commented default is 7). Past this size the text is not one, and the YAML
 * parser spends ~20 µs per error token: 64 KiB of `]]]...` is already a second.
 */
export const MAX_CONFIG_CHARS = 64 * 1024;

export function parseConfig(plugins: readonly ModuleConfigSource[], text: string, file: string): AgentConfig {
  const raw = parseYamlText(text, file, MAX_CONFIG_CHARS, 'config file');
  const result = configSchema(plugins).safeParse(raw, { reportInput: true });
  if (!result.success) throw new ConfigError(file, result.error.issues.flatMap((issue) => describeIssue(file, issue)));
  const { campaign } = result.data;
  return { ...result.data, campaign: { ...campaign, nlserver: campaign.nlserver ?? path.join(campaign.installDir, 'bin', 'nlserver') } };
}

/**
 * A parsed config as it would be written: durations as text again (`300000` → `5m`), for people
 * (`config check` prints it). Every default is shown; `campaign.nlserver` is the resolved one.
 */
export function configText(plugins: readonly ModuleConfigSource[], config: AgentConfig): unknown {
  return configSchema(plugins).encode(config);
}

/**
 * YAML text to a plain value, refusing what would hurt the agent before it is built: files past
 * `maxChars`, nesting deeper than MAX_YAML_DEPTH, alias bombs and self-referencing aliases. Every
 * problem is a `<file>: ...` line of a ConfigError. Shared by the config and the web-config file.
 */
export function parseYamlText(text: string, file: string, maxChars: number, what: string): unknown {
  if (text.length > maxChars) {
    throw new ConfigError(file, [`${file}: (top level): expected a ${what} of at most ${maxChars} characters, got ${text.length}`]);
  }
  // Positions come from a LineCounter rather than prettyErrors, whose context snippets cost a pass over
  // the line per error: seconds for a long line of `]]]]...`.
  const tooDeep = nestingPastLimit(text);
  if (tooDeep !== undefined) {
    throw new ConfigError(file, [`${file}: invalid YAML: expected at most ${MAX_YAML_DEPTH} levels of nesting, got more at line ${tooDeep.line}, column ${tooDeep.col}`]);
  }
  const lineCounter = new LineCounter();
  // logLevel error: the YAML library would print Node warnings of its own (a mapping used as a key...) to stderr.
  const doc = YAML.parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter, logLevel: 'error' });
  if (doc.errors.length > 0) throw new ConfigError(file, yamlProblems(file, doc.errors, lineCounter));
  let raw: unknown;
  try {
    // toJS refuses alias bombs (`Excessive alias count...`): a YAML problem, said as one.
    raw = doc.toJS() ?? {};
  } catch (error) {
    throw new ConfigError(file, [`${file}: invalid YAML: ${firstLine(error instanceof Error ? error.message : String(error))}`]);
  }
  const loop = recursivePath(raw);
  if (loop !== undefined) {
    // `a: &x [*x]` is legal YAML but no config value; zod's messages could not even print it.
    throw new ConfigError(file, [`${file}: ${keyPath(loop)}: expected a value, got a YAML alias to a node containing it`]);
  }
  return raw;
}

/**
 * Nesting allowed in a config (it needs about 5). The YAML library composes recursively: ~800 levels
 * (`[[[[...` in 1.6 KB) overflow the stack, and a second such parse in the same process aborts Node
 * itself ("FATAL ERROR: RegExpCompiler Allocation failed"), so deep text is refused before it is composed.
 */
const MAX_YAML_DEPTH = 64;

/**
 * Where `text` nests deeper than MAX_YAML_DEPTH, or undefined. Read with the library's own
 * lexer and CST parser, which are iterative (quotes, comments and flow/block forms counted as YAML does);
 * the scan stops at the first level too many.
 */
function nestingPastLimit(text: string): { line: number; col: number } | undefined {
  const lines = new LineCounter();
  lines.addNewLine(0); // Parser#parse does this; Parser#next, used here to watch the depth, does not
  const parser = new Parser(lines.addNewLine);
  for (const lexeme of new Lexer().lex(text)) {
    for (const _document of parser.next(lexeme)) {
      // Only the depth is wanted here; documents are composed by parseDocument.
    }
    if (parser.stack.length > MAX_YAML_DEPTH) return lines.linePos(parser.offset);
  }
  return undefined;
}

/** Building the schema, and zod's first parse with it, take milliseconds: once per plugin list. */
const schemas = new WeakMap<readonly ModuleConfigSource[], ReturnType<typeof buildConfigSchema>>();

function configSchema(plugins: readonly ModuleConfigSource[]): ReturnType<typeof buildConfigSchema> {
  let schema = schemas.get(plugins);
  if (schema === undefined) {
    schema = buildConfigSchema(plugins);
    schemas.set(plugins, schema);
  }
  return schema;
}

/** The path to the first node that contains itself (through a YAML alias), or undefined. */
function recursivePath(value: unknown): PropertyKey[] | undefined {
  const open = new Set<object>();
  const done = new Set<object>();
  const visit = (node: unknown, at: PropertyKey[]): PropertyKey[] | undefined => {
    if (node === null || typeof node !== 'object' || done.has(node)) return undefined;
    if (open.has(node)) return at;
    open.add(node);
    for (const [key, child] of Object.entries(node)) {
      const loop = visit(child, [...at, Array.isArray(node) ? Number(key) : key]);
      if (loop !== undefined) return loop;
    }
    open.delete(node);
    done.add(node);
    return undefined;
  };
  return visit(value, []);
}

/** `modules.web.schedule`; a key that is not a plain word is quoted (`modules."we b"`, `""`) to stay one line. */
function keyPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  const plain = (key: PropertyKey): boolean => typeof key === 'number' || (typeof key === 'string' && /^[A-Za-z0-9_$@-]+$/.test(key));
  return path.map((key) => (plain(key) ? String(key) : JSON.stringify(String(key)))).join('.');
}

/** One zod issue as `<file>: <key>: <message>` lines (the web config file reuses it). */
export function describeIssue(file: string, issue: z.core.$ZodIssue): string[] {
  const key = keyPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((name) => `${file}: ${keyPath([...issue.path, name])}: ${renamedTo(issue.path, name) ?? 'unknown key'}`);
  }
  if (issue.code === 'invalid_type' && !issue.message.startsWith('expected')) {
    return [`${file}: ${key}: expected ${issue.expected}, got ${describeInput(issue.input)}`];
  }
  return [`${file}: ${key}: ${issue.message}`];
}

/** `renamed to modules.mta.restarts` for a key of a module block that has a new name. */
function renamedTo(path: readonly PropertyKey[], name: string): string | undefined {
  const renamed = Object.hasOwn(RENAMED_MODULE_KEYS, name) ? RENAMED_MODULE_KEYS[name] : undefined;
  if (renamed === undefined || path.length !== 2 || path[0] !== 'modules') return undefined;
  return `renamed to ${keyPath([...path, renamed])}`;
}

function describeInput(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  return `${typeof input} ${JSON.stringify(input)}`;
}

/** YAML errors shown at most; a file of junk can hold one per character. */
const MAX_YAML_PROBLEMS = 10;

function yamlProblems(file: string, errors: readonly YAMLError[], lines: LineCounter): string[] {
  const shown = errors.slice(0, MAX_YAML_PROBLEMS).map((error) => {
    const { line, col } = lines.linePos(error.pos[0]);
    return `${file}: invalid YAML: ${firstLine(error.message)} at line ${line}, column ${col}`;
  });
  const more = errors.length - shown.length;
  return more > 0 ? [...shown, `${file}: invalid YAML: ${more} more error${more === 1 ? '' : 's'} not shown`] : shown;
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? text).replace(/:$/, '');
}
