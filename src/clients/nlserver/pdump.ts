import { consoleLines, consumeCommon, emptyOutput, keepUnexpected, type ParsedOutput } from './output.js';

/** One running task as `nlserver pdump` lists it: `mta@prod (7831) - 15.6 MB`, or bare `watchdog (27369) - 3.1 MB`. */
export interface PdumpTask {
  module: string;
  /** Absent for tasks printed without `@instance` (watchdog). */
  instance?: string;
  pid: number;
  memoryBytes: number;
}

const MIB = 1024 * 1024;
// Units seen in Campaign's docs: MB, Mb and the French Mo; kB/GB variants accepted alike.
const UNIT_BYTES: Record<string, number> = { kb: 1024, ko: 1024, mb: MIB, mo: MIB, gb: 1024 * MIB, go: 1024 * MIB };
const TASK_LINE = /^([A-Za-z][A-Za-z0-9_]*)(?:@([A-Za-z0-9][A-Za-z0-9_-]*))?\s+\((\d{1,10})\)\s+-\s+(\d{1,9}(?:[.,]\d{1,6})?)\s*([KMG][BbOo])$/;
// `pdump -who` appends sessions and DB pools after dashed headings: not tasks, not unexpected.
const WHO_SECTION = /^Connections\s*-{3,}$/;

/** Parses `nlserver pdump` output; never throws. */
export function parsePdump(text: string): ParsedOutput<PdumpTask> {
  const result = emptyOutput<PdumpTask>();
  for (const { line, raw } of consoleLines(text)) {
    if (WHO_SECTION.test(line)) break;
    if (consumeCommon(line, result)) continue;
    const task = toTask(TASK_LINE.exec(line));
    if (task) result.entries.push(task);
    else keepUnexpected(result, raw);
  }
  return result;
}

function toTask(match: RegExpExecArray | null): PdumpTask | undefined {
  if (!match) return undefined;
  const pid = Number(match[3]);
  const amount = Number(match[4]!.replace(',', '.'));
  const unit = UNIT_BYTES[match[5]!.toLowerCase()];
  if (pid <= 0 || unit === undefined) return undefined;
  return { module: match[1]!, ...(match[2] ? { instance: match[2] } : {}), pid, memoryBytes: Math.round(amount * unit) };
}
