import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SimulatedHost } from '../sim/host.js';
import { FaultDaemon, findCheck, findRow, type FullStatusDoc } from './faultDaemon.js';
import { waitFor } from './helpers.js';

// Log directories deleted or made unreadable while the daemon runs: the tracking logs trackinglogd
// writes (var/<inst>/redir/log, the growth check) and the module logs (var/<inst>/log, the `log`
// freshness check of mta, wfserver and inMail). Each row must say what is wrong, with the path and
// the error, and the daemon must go on.
//
// "Unreadable": tests usually run as root here, and root reads a chmod 000 directory anyway (it has
// CAP_DAC_OVERRIDE), so chmod 000 would exercise nothing. As root the directory is replaced by a
// regular file instead: readdir then fails with ENOTDIR, through the same error path as EACCES
// (anything but ENOENT). As another user, chmod 000 gives the real EACCES.
// Each faults*.test.ts file has an instance name of its own: per-instance rows never see another's processes.
const INSTANCE = 'faultlogs';
const ROOT = process.getuid?.() === 0;
const UNREADABLE = ROOT ? 'ENOTDIR' : 'EACCES';

let sim: SimulatedHost;
let configFile: string;

beforeAll(async () => {
  sim = await SimulatedHost.start({ instances: [INSTANCE], trackingIntervalMs: 200 });
  configFile = await sim.writeAgentConfig(
    {
      defaults: { schedule: '* * * * * *', timeout: '20s' },
      modules: {
        system: { enabled: false },
        // The simulated trackinglogd logs an error line while it cannot write (as the real one would):
        // log_errors rightly keeps the row warning for its window. A short window lets each test here
        // start from, and return to, ok.
        trackinglogd: { growthWarning: '10s', growthCritical: '20s', logErrors: { window: '3s' } },
        mta: { logMaxAge: '1h' },
      },
    },
    'logdirs.yaml',
  );
}, 120_000);

afterAll(async () => {
  await sim?.stop();
});

/**
 * A daemon of its own per test: the install is read again every minute and a redir/log directory
 * that no longer exists then leaves the plan; each test here stays well inside its first minute.
 */
async function withDaemon(run: (daemon: FaultDaemon) => Promise<void>): Promise<void> {
  const daemon = await FaultDaemon.start(configFile);
  try {
    await daemon.statusWhen((doc) => findRow(doc, 'trackinglogd').state === 'ok' && findRow(doc, 'mta', INSTANCE).state === 'ok');
    await run(daemon);
    expect((await daemon.get('/healthz')).status).toBe(200);
    expect(daemon.alive()).toBe(true);
  } finally {
    expect(await daemon.stop()).toBe(0);
  }
}

/**
 * Deletes a directory the simulated modules may be writing into: a file created between the listing
 * and the rmdir (ENOTEMPTY) is deleted on a retry.
 */
const removeDir = (dir: string) => rm(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 10 });

/** Makes `dir` unreadable for the agent (see the top of the file); returns the undo. */
async function makeUnreadable(dir: string): Promise<() => Promise<void>> {
  if (ROOT) {
    await removeDir(dir);
    await writeFile(dir, 'a regular file where a directory should be\n');
    return async () => {
      await rm(dir, { force: true });
      await mkdir(dir, { recursive: true });
    };
  }
  await chmod(dir, 0o000);
  return () => chmod(dir, 0o755);
}

/** Module tasks of the instance stop writing (else the simulated modules recreate var/<inst>/log at once). */
const SILENT = ['mta', 'wfserver', 'inMail', 'stat'].map((module) => `${module}@${INSTANCE}`);

describe('the tracking log directory', () => {
  test('deleted mid-run: trackinglogd critical naming the directory; back to ok when it returns', async () => {
    const dir = sim.trackingDir(INSTANCE);
    expect(dir).toBe(path.join(sim.varDir, INSTANCE, 'redir', 'log'));
    await withDaemon(async (daemon) => {
      await removeDir(dir);
      try {
        const doc = await daemon.statusWhen((status) => findRow(status, 'trackinglogd').state === 'critical');
        expect(findCheck(doc, 'trackinglogd', 'redir_log', 'default', { redir_instance: INSTANCE })).toMatchObject({ state: 'critical', message: `directory ${dir} does not exist` });
        expect(findRow(doc, 'trackinglogd').detail).toBe(`redir_log{redir_instance="${INSTANCE}"}: directory ${dir} does not exist`);
        expect(findCheck(doc, 'trackinglogd', 'process').state).toBe('ok');
      } finally {
        await mkdir(dir, { recursive: true });
      }
      // trackinglogd writes into it again: a new file is activity (ok already while the check watches
      // the empty directory, so wait for the file however long a loaded machine takes to write it).
      const back = await daemon.statusWhen(
        (status) => findRow(status, 'trackinglogd').state === 'ok' && findCheck(status, 'trackinglogd', 'redir_log', 'default', { redir_instance: INSTANCE }).message.startsWith('newest '),
      );
      expect(findCheck(back, 'trackinglogd', 'redir_log', 'default', { redir_instance: INSTANCE }).message).toMatch(/^newest 0x[0-9A-F]{16}\.log grew /);
    });
  }, 120_000);

  test(`made unreadable mid-run (${UNREADABLE}): critical with the path and the error code`, async () => {
    const dir = sim.trackingDir(INSTANCE);
    await withDaemon(async (daemon) => {
      const undo = await makeUnreadable(dir);
      try {
        const doc = await daemon.statusWhen((status) => findRow(status, 'trackinglogd').state === 'critical');
        expect(findCheck(doc, 'trackinglogd', 'redir_log', 'default', { redir_instance: INSTANCE })).toMatchObject({
          state: 'critical',
          message: `cannot read directory ${dir}: ${UNREADABLE}`,
        });
      } finally {
        await undo();
      }
      await daemon.statusWhen((status) => findRow(status, 'trackinglogd').state === 'ok');
    });
  }, 120_000);
});

describe('the module log directory', () => {
  test('deleted mid-run: mta, wfserver and inMail warn naming the directory; ok again once logs return', async () => {
    const dir = path.join(sim.varDir, INSTANCE, 'log');
    await withDaemon(async (daemon) => {
      await sim.setControl({ silentModules: SILENT });
      try {
        // Deleted again until it stays so: a module busy writing when it was told to be silent may
        // write once more, and so recreate the directory (seen on a loaded machine).
        let doc: FullStatusDoc | undefined;
        const gone = (status: FullStatusDoc) =>
          ['mta', 'wfserver', 'inMail'].every((module) => findCheck(status, module, 'log', INSTANCE).message === `directory ${dir} does not exist`);
        await waitFor(
          async () => {
            await removeDir(dir);
            doc = await daemon.statusWhen((status) => ['mta', 'wfserver', 'inMail'].every((module) => findRow(status, module, INSTANCE).state === 'warning'));
            return gone(doc);
          },
          60_000,
          () => `the log checks never said the directory is gone:\n${JSON.stringify(doc, null, 1)}`,
        );
        doc = doc!;
        for (const module of ['mta', 'wfserver', 'inMail']) {
          expect(findCheck(doc, module, 'log', INSTANCE)).toMatchObject({ state: 'warning', message: `directory ${dir} does not exist` });
          expect(findCheck(doc, module, 'process', INSTANCE).state).toBe('ok');
        }
        // stat has no log check: untouched.
        expect(findRow(doc, 'stat', INSTANCE).state).toBe('ok');
      } finally {
        await sim.setControl({ silentModules: [] });
      }
      // The modules log again (the simulated ones recreate the directory, as syslogd would).
      const back = await daemon.statusWhen((status) => findRow(status, 'mta', INSTANCE).state === 'ok');
      expect(findCheck(back, 'mta', 'log', INSTANCE).message).toMatch(/^mta\.log written \d+(ms|s) ago$/);
    });
  }, 120_000);

  test(`made unreadable mid-run (${UNREADABLE}): unknown, naming the log it cannot read, and the log check warns with the path`, async () => {
    const dir = path.join(sim.varDir, INSTANCE, 'log');
    await withDaemon(async (daemon) => {
      await sim.setControl({ silentModules: SILENT });
      const undo = await makeUnreadable(dir);
      try {
        // A log the agent cannot read is no evidence either way: log_errors is unknown naming the file,
        // and unknown outranks the stale log's warning.
        const doc = await daemon.statusWhen((status) => findRow(status, 'mta', INSTANCE).state === 'unknown');
        expect(findCheck(doc, 'mta', 'log_errors', INSTANCE).state).toBe('unknown');
        expect(findCheck(doc, 'mta', 'log_errors', INSTANCE).message).toContain(`cannot read ${dir}/mta.log: ${UNREADABLE}`);
        expect(findCheck(doc, 'mta', 'log', INSTANCE)).toMatchObject({ state: 'warning', message: `cannot read directory ${dir} (${UNREADABLE})` });
      } finally {
        await undo();
        await sim.setControl({ silentModules: [] });
      }
      await daemon.statusWhen((status) => findRow(status, 'mta', INSTANCE).state === 'ok');
    });
  }, 120_000);
});
