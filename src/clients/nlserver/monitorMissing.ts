import { INSTANCE_PATTERN, KNOWN_MODULES, MODULE_PATTERN } from '../../util/names.js';
import { consoleLines, consumeCommon, emptyOutput, keepUnexpected } from './output.js';
import type { ParsedOutput, MissingTask } from './types.js';

export type { MissingTask };

const MISSING_LINE = new RegExp(`^(${MODULE_PATTERN})(?:@(${INSTANCE_PATTERN}))?$`);

/** Parses `nlserver monitor -missing` output (banner, then one `module@instance` per line); never throws. */
export function parseMonitorMissing(text: string): ParsedOutput<MissingTask> {
  const result = emptyOutput<MissingTask>();
  for (const { line, raw } of consoleLines(text)) {
    if (consumeCommon(line, result)) continue;
    const match = MISSING_LINE.exec(line);
    // A bare word is only a task when it names a module: junk output is not read as a missing module.
    if (match && (match[2] !== undefined || KNOWN_MODULES.includes(match[1]!))) result.entries.push({ module: match[1]!, ...(match[2] ? { instance: match[2] } : {}) });
    else keepUnexpected(result, raw);
  }
  return result;
}
