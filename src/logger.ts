import { pino } from 'pino';
import type { Logger } from './types.js';

/** JSON lines on stderr: journald keeps them, stdout stays free for command output. */
export function createLogger(level: string, destination: number = 2): Logger {
  return pino({ level, base: { name: 'campaign-health-agent' } }, pino.destination({ dest: destination, sync: true }));
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
