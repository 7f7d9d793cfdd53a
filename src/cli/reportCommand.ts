import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgentConfig } from '../config/schema.js';
import { parseEventText } from '../history/eventFile.js';
import { availability, reportSince, renderReport, type ReportFormat } from '../history/report.js';
import type { WebConfig } from '../http/webConfig.js';
import { askDaemon, DaemonError } from './daemonClient.js';

export interface ReportCommandOptions {
  since: string;
  format: ReportFormat;
  user?: string;
  passwordFile?: string;
}

export interface ReportOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The event file in the state directory (the event log's format: src/history/eventFile.ts). */
export const eventFilePath = (config: AgentConfig): string => path.join(config.stateDir, 'events.jsonl');

/**
 * `campaign-health report`: the running daemon's GET /report, or, when nothing answers at its `listen`
 * address, the same report computed from its event file, with the time since the file's last event
 * counted as agent down (the daemon is not running: nobody looked).
 */
export async function reportCommand(config: AgentConfig, web: WebConfig | undefined, options: ReportCommandOptions, now = Date.now()): Promise<ReportOutcome> {
  const since = reportSince(options.since, now);
  if ('error' in since) return { exitCode: 2, stdout: '', stderr: `--${since.error}\n` };
  let credentials: { user: string; password: string } | undefined;
  if (options.user !== undefined) {
    if (options.passwordFile === undefined) return { exitCode: 2, stdout: '', stderr: '--user needs --password-file (the password is never given on the command line)\n' };
    try {
      credentials = { user: options.user, password: (await readFile(options.passwordFile, 'utf8')).replace(/\r?\n$/, '') };
    } catch (error) {
      return { exitCode: 2, stdout: '', stderr: `--password-file: cannot read ${options.passwordFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}\n` };
    }
  }
  const query = `/report?since=${encodeURIComponent(options.since)}&format=${options.format}`;
  let answer;
  try {
    answer = await askDaemon(config.listen, query, { web, ...(credentials ? { credentials } : {}) });
  } catch (error) {
    if (!(error instanceof DaemonError)) throw error;
    return { exitCode: 1, stdout: '', stderr: `cannot ask the daemon: ${error.message}\n` };
  }
  if (answer.kind === 'answer') {
    if (answer.status === 200) return { exitCode: 0, stdout: answer.body, stderr: '' };
    if (answer.status === 401) {
      return { exitCode: 1, stdout: '', stderr: `the daemon at ${config.listen} needs basic auth (webConfigFile ${config.webConfigFile ?? ''}): pass --user NAME --password-file FILE${credentials ? '; these credentials were refused' : ''}\n` };
    }
    return { exitCode: 1, stdout: '', stderr: `the daemon at ${config.listen} answered ${answer.status}: ${answer.body.trim()}\n` };
  }
  const file = eventFilePath(config);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { exitCode: 1, stdout: '', stderr: `the daemon did not answer (${answer.reason}) and its event file cannot be read: ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}\n` };
  }
  const { events, invalid } = parseEventText(text);
  const last = events.reduce((latest, event) => Math.max(latest, event.time), -Infinity);
  const notes = [
    `the daemon did not answer (${answer.reason}): computed from ${file}; ` +
      (Number.isFinite(last) ? `the time since its last event (${new Date(last).toISOString()}) is counted as agent down` : 'it holds no event'),
    ...(invalid > 0 ? [`${invalid} line(s) of ${file} are not events and were skipped`] : []),
  ];
  const report = availability(events, { since: since.since, now, agentRunning: false });
  // Text and JSON carry the notes; CSV stays one table, so they go to stderr, where they are also seen.
  return { exitCode: 0, stdout: renderReport(report, options.format, notes), stderr: options.format === 'csv' ? `${notes.join('\n')}\n` : '' };
}
