import { consoleLines } from '../clients/nlserver/output.js';

// `nlserver pdump -who` appends the server's sessions (campaign-facts §3):
//
//   Connections ------------------------------------------------------
//   Last Access IP Instance Login
//   DD/MM/YYYY HH:MM:SS 127.0.0.1 default formation_fr|tracking
//   DD/MM/YYYY HH:MM:SS 127.0.0.1 default internal|monitoring
//
//   Connection pool --------------------------------------------------
//
// Adobe says to check it before restarting a module (restarting cancels work in progress) but does
// not say which sessions are harmless. The rule here is conservative: every session but
// `internal|monitoring` (Campaign's own monitoring session, what pdump/monitor open) is work in
// progress, whatever its instance (the documented example shows an operator's session under
// `default`, so the column cannot be trusted to name the instance), and output that cannot be read
// counts as busy too: better a skipped restart than a cancelled delivery.

/** The only session that does not hold a restart back. */
export const IDLE_LOGINS: readonly string[] = ['internal|monitoring'];

const CONNECTIONS = /^Connections\s*-{3,}$/;
const SECTION = /^\S.*\s-{3,}$/;
const HEADER = /^Last Access\s+IP\s+Instance\s+Login$/i;
const SESSION = /^(\d{1,2}\/\d{1,2}\/\d{4}\s+\d{1,2}:\d{2}:\d{2})\s+(\S+)\s+(\S+)\s+(.+)$/;

export interface WhoSession {
  instance: string;
  login: string;
}

export interface WhoVerdict {
  busy: boolean;
  /** One line for the log: the sessions that hold the action back, or why the output is unusable. */
  reason: string;
  sessions: WhoSession[];
}

/** Reads the Connections section of `nlserver pdump -who` output; never throws. */
export function judgeWho(text: string): WhoVerdict {
  const lines = consoleLines(text).map(({ line }) => line);
  const start = lines.findIndex((line) => CONNECTIONS.test(line));
  if (start < 0) return { busy: true, reason: 'no Connections section in nlserver pdump -who output: cannot tell, not acting', sessions: [] };
  const sessions: WhoSession[] = [];
  const unreadable: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line === '' || SECTION.test(line)) break;
    if (HEADER.test(line)) continue;
    const match = SESSION.exec(line);
    if (match) sessions.push({ instance: match[3]!, login: match[4]!.trim() });
    else unreadable.push(line.slice(0, 80));
  }
  const holding = sessions.filter((session) => !IDLE_LOGINS.includes(session.login));
  if (unreadable.length > 0) {
    return { busy: true, reason: `unreadable session line in nlserver pdump -who: ${JSON.stringify(unreadable[0])}`, sessions };
  }
  if (holding.length > 0) {
    const shown = holding.slice(0, 5).map((session) => `${session.login}@${session.instance}`).join(', ');
    return { busy: true, reason: `${holding.length} session${holding.length > 1 ? 's' : ''} in progress (${shown})`, sessions };
  }
  return { busy: false, reason: 'no session but internal|monitoring', sessions };
}
