import { KNOWN_MODULES } from '../../discovery/serverConfXml.js';
import { consoleLines, consumeCommon, emptyOutput, keepUnexpected, type ParsedOutput } from './output.js';

/** A module whose autoStart is true but that is not running, as `nlserver monitor -missing` lists it. */
export interface MissingTask {
  module: string;
  /** Absent for a bare module name (no `@instance`). */
  instance?: string;
}

const MISSING_LINE = /^([A-Za-z][A-Za-z0-9_]*)(?:@([A-Za-z0-9][A-Za-z0-9_-]*))?$/;

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
