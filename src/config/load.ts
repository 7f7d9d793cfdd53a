import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import type { ProbePlugin } from '../plugin.js';
import { BUNDLE, projectRoot } from '../paths.js';
import { buildConfigSchema, type AgentConfig } from './schema.js';

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

export async function loadConfig(plugins: readonly ProbePlugin[], file: string = EMBEDDED_CONFIG): Promise<LoadedConfig> {
  let text: string;
  try {
    text = BUNDLE && file === EMBEDDED_CONFIG ? BUNDLE.defaultConfig : await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError(file, [`${file}: cannot read the config file (${code})`]);
  }
  return { config: parseConfig(plugins, text, file), file };
}

export function parseConfig(plugins: readonly ProbePlugin[], text: string, file: string): AgentConfig {
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((error) => `${file}: invalid YAML: ${firstLine(error.message)}`));
  }
  const raw: unknown = doc.toJS() ?? {};
  const result = buildConfigSchema(plugins).safeParse(raw, { reportInput: true });
  if (!result.success) throw new ConfigError(file, result.error.issues.flatMap((issue) => describeIssue(file, issue)));
  const parsed = result.data as unknown as AgentConfig;
  parsed.campaign.nlserver ??= path.join(parsed.campaign.installDir, 'bin', 'nlserver');
  return parsed;
}

function describeIssue(file: string, issue: z.core.$ZodIssue): string[] {
  const key = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const prefix = issue.path.length > 0 ? `${key}.` : '';
    return issue.keys.map((name) => `${file}: ${prefix}${name}: unknown key`);
  }
  if (issue.code === 'invalid_type' && !issue.message.startsWith('expected')) {
    return [`${file}: ${key}: expected ${issue.expected}, got ${describeInput(issue.input)}`];
  }
  return [`${file}: ${key}: ${issue.message}`];
}

function describeInput(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  return `${typeof input} ${JSON.stringify(input)}`;
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? text).replace(/:$/, '');
}
