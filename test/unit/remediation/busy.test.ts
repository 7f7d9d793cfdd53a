import { describe, expect, test } from '@jest/globals';
import { judgeWho } from '../../../src/restarts/busy.js';
import { BUSY_WHO, IDLE_WHO } from './harness.js';

// The documented `nlserver pdump -who` tail (campaign-facts §3).
const DOCUMENTED = `12:17:21 > Application server for Adobe Campaign Classic (7.3 24.1 build 9356@abc1234) of 01/03/2024
web@default (28671) - 40.5 MB

Connections ------------------------------------------------------
Last Access IP Instance Login
25/11/2026 10:00:00 127.0.0.1 default formation_fr|tracking
25/11/2026 10:00:00 127.0.0.1 default internal|monitoring

Connection pool --------------------------------------------------
Datasource Server Provider Login
default xxxxx myserver myprovider test400
`;

describe('pdump -who: is work in progress?', () => {
  test("only Campaign's own internal|monitoring session: not busy; the pool section is not read as sessions", () => {
    expect(judgeWho(IDLE_WHO)).toEqual({ busy: false, reason: 'no session but internal|monitoring', sessions: [{ instance: 'prod', login: 'internal|monitoring' }] });
  });

  test('any other session is work in progress, whatever its instance (the documented example shows an operator under default)', () => {
    expect(judgeWho(DOCUMENTED)).toMatchObject({ busy: true, reason: '1 session in progress (formation_fr|tracking@default)' });
    expect(judgeWho(BUSY_WHO)).toMatchObject({ busy: true, reason: '1 session in progress (operator|console@prod)' });
  });

  test('no Connections section, or an unreadable session line: cannot tell, so busy', () => {
    expect(judgeWho('web@default (28671) - 40.5 MB\n')).toMatchObject({ busy: true, reason: expect.stringContaining('no Connections section') });
    expect(judgeWho(IDLE_WHO.replace('Last Access IP Instance Login', 'something odd'))).toMatchObject({ busy: true, reason: expect.stringContaining('unreadable session line') });
  });

  test('an empty Connections section: not busy', () => {
    expect(judgeWho('Connections ------------------------------------------------------\nLast Access IP Instance Login\n\n')).toMatchObject({ busy: false, sessions: [] });
  });
});
