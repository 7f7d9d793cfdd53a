import { writeSync } from 'node:fs';
import { pino } from 'pino';

/** What the agent logs through: pino's shape, so tests can pass a silent or recording one. */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

/** JSON lines on stderr: journald keeps them, stdout stays free for command output. */
export function createLogger(level: string, destination: number = 2): Logger {
  return pino({ level, base: { name: 'campaign-health-agent' } }, new LineDestination(destination));
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A full pipe (journald busy) is waited for this long per line, in short sleeps, then the line is dropped. */
const EAGAIN_WAIT_MS = 100;
const EAGAIN_SLEEP_MS = 10;

/**
 * Where the agent's log lines go: each written synchronously (order kept, nothing pending at a crash).
 * A line that cannot be written (ENOSPC on a full disk, EPIPE, EIO) is dropped and counted, never
 * queued and never thrown: the agent's job is probing Campaign, its own log failing must not stop it
 * or fill its memory. (pino.destination throws from the log call on such errors, and with an error
 * handler it keeps every unwritten line in memory.) Logging resumes with the next line that fits.
 */
export class LineDestination {
  /** Lines lost since start. */
  dropped = 0;

  constructor(private readonly fd: number) {}

  write(line: string): void {
    let rest = Buffer.from(line);
    let waitedMs = 0;
    while (rest.length > 0) {
      try {
        rest = rest.subarray(writeSync(this.fd, rest));
      } catch (error) {
        // stderr may be a non-blocking pipe (Node makes it one once process.stderr is used).
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN' && waitedMs < EAGAIN_WAIT_MS) {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, EAGAIN_SLEEP_MS);
          waitedMs += EAGAIN_SLEEP_MS;
          continue;
        }
        this.dropped += 1;
        return;
      }
    }
  }
}
