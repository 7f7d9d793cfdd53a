import type { AgentConfig } from '../config/schema.js';
import { availability, reportSince, renderReport, type ReportFormat } from '../history/report.js';
import type { WebConfig } from '../http/webConfig.js';
import { daemonOrFile, failed, readCredentials, type CommandOutcome } from './daemonClient.js';

export interface ReportCommandOptions {
  since: string;
  format: ReportFormat;
  user?: string;
  passwordFile?: string;
}

/**
 * `campaign-health report`: the running daemon's GET /report, or, when nothing answers at its `listen`
 * address, the same report computed from its event file, with the time since the file's last event
 * counted as agent down (the daemon is not running: nobody looked). Which one goes to stderr.
 */
export async function reportCommand(config: AgentConfig, web: WebConfig | undefined, options: ReportCommandOptions, now = Date.now()): Promise<CommandOutcome> {
  const since = reportSince(options.since, now);
  if ('error' in since) return failed(2, `--${since.error}`);
  const credentials = await readCredentials(options);
  if ('error' in credentials) return failed(2, credentials.error);
  const source = await daemonOrFile(config, web, `/report?since=${encodeURIComponent(options.since)}&format=${options.format}`, credentials.credentials);
  if (source.from === 'nowhere') return source.outcome;
  if (source.from === 'daemon') return { exitCode: 0, stdout: source.body, stderr: `report from the running daemon at ${source.url}\n` };
  const last = source.events.reduce((latest, event) => Math.max(latest, event.time), -Infinity);
  const notes = [...source.notes];
  notes[0] += `; ${Number.isFinite(last) ? `the time since its last event (${new Date(last).toISOString()}) is counted as agent down` : 'it holds no event'}`;
  const report = availability(source.events, { since: since.since, now, agentRunning: false });
  // Text and JSON carry the notes and stderr says the source; CSV stays one table, so stderr has them all.
  return { exitCode: 0, stdout: renderReport(report, options.format, notes), stderr: `${(options.format === 'csv' ? notes : notes.slice(0, 1)).join('\n')}\n` };
}
