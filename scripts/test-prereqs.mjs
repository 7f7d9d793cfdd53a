#!/usr/bin/env node
// The programs `npm test` (or, with `bench`, `npm run bench`) runs besides node, and the Debian
// packages they come from. Run first by both scripts, before anything is built:
//
//   node scripts/test-prereqs.mjs          # what the tests spawn
//   node scripts/test-prereqs.mjs bench    # what bench/bench.mjs spawns
//
// All present: prints nothing, exits 0. Some missing: as root with apt-get, runs `apt-get update` and
// `apt-get install -y <packages>` (output shown, any failure stops here); otherwise prints the exact
// `apt-get install -y ...` line and exits 1, before any test runs.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** `file`: an absolute path (what the code opens) or a name looked up on PATH (what it spawns by name). */
const TEST = [
  // test/integration/prometheus.test.ts
  { file: '/usr/bin/promtool', pkg: 'prometheus' },
  { file: '/usr/bin/prometheus', pkg: 'prometheus' },
  // test/sim/dovecot.ts (POP3 unit, integration and secrets tests)
  { file: '/usr/sbin/dovecot', pkg: 'dovecot-core' },
  { file: '/usr/lib/dovecot/pop3', pkg: 'dovecot-pop3d' },
  // test/integration/status-page.test.ts
  { file: '/usr/bin/chromium', pkg: 'chromium' },
  // test/integration/install.test.ts
  { file: 'systemd-analyze', pkg: 'systemd' },
  { file: 'tar', pkg: 'tar' },
  // test/integration/web-config.test.ts, test/unit/config/web-config.test.ts
  { file: 'openssl', pkg: 'openssl' },
  // setpriv: Prometheus and Dovecot die with the test process; unshare: scripts/test.mjs's lanes
  { file: '/usr/bin/setpriv', pkg: 'util-linux' },
  { file: 'unshare', pkg: 'util-linux' },
  // test/unit/snapshot, test/unit/checks/process.test.ts, install.test.ts; lanes' PID 1
  { file: 'bash', pkg: 'bash' },
  { file: 'sleep', pkg: 'coreutils' },
  { file: 'id', pkg: 'coreutils' },
  // test/sim-tests/host.test.ts compiles the cost bench's stand-in nlserver (bench/nlserver-standin.c)
  { file: 'cc', pkg: 'gcc' },
];

/** bench/peers.mjs, bench/sim-host.mjs and bench/daemon-cost.mjs (the 50-scraper load is Node's own http). */
const BENCH = [
  { file: '/usr/bin/prometheus-blackbox-exporter', pkg: 'prometheus-blackbox-exporter' },
  { file: '/usr/bin/prometheus-process-exporter', pkg: 'prometheus-process-exporter' },
  { file: 'sleep', pkg: 'coreutils' },
  // bench/daemon-cost.mjs: the throughput rows, and the compiled stand-in nlserver (bench/nlserver-standin.c)
  { file: 'wrk', pkg: 'wrk' },
  // (libc6-dev, the headers, comes with it: gcc recommends it, and apt-get installs recommends)
  { file: 'cc', pkg: 'gcc' },
];

const LISTS = { test: TEST, bench: BENCH };
const which = process.argv[2] ?? 'test';
const wanted = LISTS[which];
if (!wanted || process.argv.length > 3) {
  process.stderr.write(`usage: node scripts/test-prereqs.mjs [${Object.keys(LISTS).join('|')}]\n`);
  process.exit(2);
}

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function found(file) {
  if (path.isAbsolute(file)) return executable(file);
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir !== '' && executable(path.join(dir, file)));
}

const missingPackages = (list) => [...new Set(list.filter(({ file }) => !found(file)).map(({ pkg }) => pkg))];

function run(argv) {
  process.stderr.write(`prereqs: ${argv.join(' ')}\n`);
  const result = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    process.stderr.write(`prereqs: \`${argv.join(' ')}\` failed (${result.status ?? result.signal})\n`);
    process.exit(1);
  }
}

const missing = missingPackages(wanted);
if (missing.length === 0) process.exit(0);

const install = ['apt-get', 'install', '-y', ...missing];
const names = wanted.filter(({ file }) => !found(file)).map(({ file }) => file);
process.stderr.write(`prereqs (${which}): not found: ${names.join(', ')}\n`);
if (process.getuid?.() !== 0 || !found('apt-get')) {
  process.stderr.write(`prereqs: install them first, as root:\n  ${install.join(' ')}\n`);
  process.exit(1);
}
run(['apt-get', 'update']);
run(install);
const still = wanted.filter(({ file }) => !found(file)).map(({ file }) => file);
if (still.length > 0) {
  process.stderr.write(`prereqs: still not found after \`${install.join(' ')}\`: ${still.join(', ')}\n`);
  process.exit(1);
}
