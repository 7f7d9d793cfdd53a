// A real Dovecot POP3 server for tests: Debian's /usr/sbin/dovecot with a throwaway config, users,
// maildirs and runtime directories in a temp dir, listening on 127.0.0.1 on a free port. Messages
// are dropped into the maildirs directly, as a local delivery agent would; Dovecot picks them up.
//
// Requires the Debian packages dovecot-core and dovecot-pop3d (.ci/run installs them). Tested with
// Dovecot 2.3 (Debian 12); 2.4 changed the configuration syntax.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freeTcpPort } from './net-util.js';

const DOVECOT = '/usr/sbin/dovecot';
/** Installed by dovecot-pop3d; without it dovecot-core alone refuses `protocols = pop3`. */
const POP3_BINARY = '/usr/lib/dovecot/pop3';
/** Makes the server die with the process that started it, even one killed with SIGKILL. */
const SETPRIV = '/usr/bin/setpriv';
const INSTALL_HINT = 'apt-get install -y dovecot-core dovecot-pop3d';
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;
const STDERR_KEPT_CHARS = 8192;

export interface DovecotUser {
  user: string;
  password: string;
}

export interface DovecotOptions {
  users: DovecotUser[];
  /** Messages in each user's mailbox at start. */
  messages?: Record<string, number>;
  /**
   * PEM files of the server certificate and its key: TLS on, POP3S (implicit TLS) on `tlsPort` and
   * STLS offered on `port`. Without it `ssl = no`: no POP3S port, and STLS is an unknown command.
   */
  tls?: { certFile: string; keyFile: string };
}

export interface SimDovecot {
  host: '127.0.0.1';
  /** The plain POP3 port (STLS offered there when started with `tls`). */
  port: number;
  /** The POP3S port (TLS from the first byte), when started with `tls`. */
  tlsPort: number | undefined;
  /** The temp dir holding config, users, maildirs, runtime files and `dovecot.log`. */
  dir: string;
  /** Drops n new messages into the user's maildir. */
  deliver(user: string, n: number): Promise<void>;
  /** Removes every message of the user's mailbox, as a client that reads and deletes would. */
  drain(user: string): Promise<void>;
  /** Stops the server (and its child processes) and removes the temp dir. */
  stop(): Promise<void>;
}

/** Who runs what: mail processes must not run as root (Dovecot refuses uid 0), login processes need an unprivileged user. */
interface Accounts {
  mailUid: number;
  mailGid: number;
  internalUser: string;
  /** Group of the runtime sockets (stats, dict) the internal processes open. */
  internalGroup: string;
  loginUser: string;
  /** Chroot of the login processes needs root. */
  chroot: boolean;
}

export async function startDovecot(opts: DovecotOptions): Promise<SimDovecot> {
  for (const file of [DOVECOT, POP3_BINARY]) {
    if (!existsSync(file)) throw new Error(`${file} not found: the POP3 tests need a real Dovecot; install it with \`${INSTALL_HINT}\``);
  }
  validateUsers(opts);
  const accounts = chooseAccounts();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dovecot-sim-'));
  let server: DovecotProcess | undefined;
  try {
    // The mail processes run as another user than the one creating the dir: it must be traversable.
    await chmod(dir, 0o755);
    const mailboxes = new Mailboxes(dir, accounts);
    for (const { user } of opts.users) await mailboxes.create(user);
    for (const [user, count] of Object.entries(opts.messages ?? {})) await mailboxes.deliver(user, count);
    const port = await freeTcpPort();
    const tls = opts.tls === undefined ? undefined : { ...opts.tls, port: await freeTcpPort() };
    const conf = await writeConfig(dir, port, opts.users, accounts, tls);
    server = new DovecotProcess(conf, path.join(dir, 'dovecot.log'));
    await server.waitReady(port);
    const running = server;
    return {
      host: '127.0.0.1',
      port,
      tlsPort: tls?.port,
      dir,
      deliver: (user, n) => mailboxes.deliver(user, n),
      drain: (user) => mailboxes.drain(user),
      async stop() {
        await running.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await server?.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

function validateUsers(opts: DovecotOptions): void {
  if (opts.users.length === 0) throw new Error('startDovecot: users must name at least one user');
  for (const { user, password } of opts.users) {
    // The names become directory names and passwd-file fields; the passwords, passwd-file fields.
    if (!/^[A-Za-z0-9._-]+$/.test(user) || user.startsWith('.')) throw new Error(`startDovecot: invalid user name ${JSON.stringify(user)}`);
    if (password === '' || /[:\r\n\0]/.test(password)) {
      throw new Error(`startDovecot: the password of ${user} must be non-empty, without ':', line breaks or NUL (passwd-file format)`);
    }
  }
  for (const user of Object.keys(opts.messages ?? {})) {
    if (!opts.users.some((u) => u.user === user)) throw new Error(`startDovecot: messages for ${user}, who is not in users`);
  }
}

function chooseAccounts(): Accounts {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  if (uid !== 0) {
    // Without root nothing can change owner: every service runs as the current user and group.
    const me = os.userInfo().username;
    const group = groupName(gid);
    if (group === undefined) throw new Error(`startDovecot: gid ${gid} has no name in /etc/group; Dovecot needs one for default_internal_group`);
    return { mailUid: uid, mailGid: gid, internalUser: me, internalGroup: group, loginUser: me, chroot: false };
  }
  // Both are created by the dovecot-core package.
  const nobody = passwdEntry('nobody');
  for (const user of ['dovecot', 'dovenull']) {
    if (passwdEntry(user) === undefined) throw new Error(`user ${user} missing: dovecot-core creates it; reinstall with \`${INSTALL_HINT}\``);
  }
  return { mailUid: nobody?.uid ?? 65534, mailGid: nobody?.gid ?? 65534, internalUser: 'dovecot', internalGroup: 'dovecot', loginUser: 'dovenull', chroot: true };
}

function groupName(gid: number): string | undefined {
  for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
    const [name, , id] = line.split(':');
    if (name !== undefined && name !== '' && Number(id) === gid) return name;
  }
  return undefined;
}

function passwdEntry(name: string): { uid: number; gid: number } | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

async function writeConfig(
  dir: string,
  port: number,
  users: DovecotUser[],
  accounts: Accounts,
  tls: { certFile: string; keyFile: string; port: number } | undefined,
): Promise<string> {
  const usersFile = path.join(dir, 'users');
  await writeFile(usersFile, users.map(({ user, password }) => `${user}:{PLAIN}${password}::::::\n`).join(''));
  // Read by the auth process, which runs as the internal user. Test passwords only.
  await chmod(usersFile, 0o644);
  const noChroot = accounts.chroot ? '' : '  chroot =\n';
  // `<file`: Dovecot reads the PEM from the file (at start, as the master's user).
  const ssl =
    tls === undefined
      ? 'ssl = no\n'
      : `ssl = yes\nssl_cert = <${tls.certFile}\nssl_key = <${tls.keyFile}\n`;
  const pop3s = tls === undefined ? '    port = 0\n' : `    address = 127.0.0.1\n    port = ${tls.port}\n    ssl = yes\n`;
  const conf = `# Written by test/sim/dovecot.ts; nothing here is read from /etc/dovecot.
protocols = pop3
listen = 127.0.0.1
${ssl}disable_plaintext_auth = no
auth_mechanisms = plain
# A wrong password is answered at once instead of after the default 2 s.
auth_failure_delay = 0
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
default_internal_user = ${accounts.internalUser}
default_internal_group = ${accounts.internalGroup}
default_login_user = ${accounts.loginUser}
# Dovecot refuses mail access as uid 0 and, by default, below uid 500.
first_valid_uid = ${accounts.mailUid}
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${usersFile}
}
userdb {
  driver = static
  args = uid=${accounts.mailUid} gid=${accounts.mailGid} home=${dir}/home/%u
}
mail_location = maildir:~/Maildir
service pop3-login {
${noChroot}  inet_listener pop3 {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener pop3s {
${pop3s}  }
}
# Without its listener anvil keeps no per-IP failure count: the tests log in with wrong passwords from
# 127.0.0.1 on purpose, and the auth penalty would then delay every later login by up to 15 s.
service anvil {
${noChroot}  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`;
  const file = path.join(dir, 'dovecot.conf');
  await writeFile(file, conf);
  return file;
}

/** The maildirs, written the way a delivery agent does: into tmp/, then renamed into new/. */
class Mailboxes {
  private sequence = 0;

  constructor(
    private readonly dir: string,
    private readonly accounts: Accounts,
  ) {}

  async create(user: string): Promise<void> {
    const home = path.join(this.dir, 'home', user);
    await mkdir(path.join(this.dir, 'home'), { recursive: true });
    for (const sub of ['', 'Maildir', 'Maildir/new', 'Maildir/cur', 'Maildir/tmp']) {
      const target = path.join(home, sub);
      await mkdir(target, { recursive: true, mode: 0o700 });
      await chown(target, this.accounts.mailUid, this.accounts.mailGid);
    }
  }

  async deliver(user: string, n: number): Promise<void> {
    if (!Number.isInteger(n) || n < 0) throw new Error(`deliver: n must be a non-negative integer, got ${String(n)}`);
    const maildir = this.maildir(user);
    for (let i = 0; i < n; i++) {
      const id = ++this.sequence;
      const name = `${Math.floor(Date.now() / 1000)}.M${id}P${process.pid}.campaign-sim`;
      const staged = path.join(maildir, 'tmp', name);
      await writeFile(staged, bounce(user, id));
      await chown(staged, this.accounts.mailUid, this.accounts.mailGid);
      await rename(staged, path.join(maildir, 'new', name));
    }
  }

  async drain(user: string): Promise<void> {
    const maildir = this.maildir(user);
    for (const sub of ['new', 'cur']) {
      for (const name of await readdir(path.join(maildir, sub))) await rm(path.join(maildir, sub, name), { force: true });
    }
  }

  private maildir(user: string): string {
    const maildir = path.join(this.dir, 'home', user, 'Maildir');
    if (!existsSync(maildir)) throw new Error(`no mailbox for ${JSON.stringify(user)} in ${this.dir}`);
    return maildir;
  }
}

/** A delivery status notification, the kind of mail inMail reads from the bounce mailbox. */
function bounce(user: string, id: number): string {
  return [
    'From: MAILER-DAEMON@sim.example',
    `To: ${user}@sim.example`,
    'Subject: Undelivered Mail Returned to Sender',
    `Message-ID: <bounce-${id}-${process.pid}@sim.example>`,
    'Date: Tue, 25 Nov 2025 17:00:00 +0000',
    '',
    `This is bounce ${id}: recipient address rejected: user unknown.`,
    '',
  ].join('\r\n');
}

class DovecotProcess {
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private exitStatus: string | undefined;
  private stderr = '';
  private readonly exitHook = (): void => {
    this.child.kill('SIGTERM');
  };

  constructor(
    conf: string,
    private readonly logPath: string,
  ) {
    // -F: stay in the foreground, so the child is the master process and its exit is seen.
    const [file, args] = existsSync(SETPRIV)
      ? [SETPRIV, ['--pdeathsig', 'TERM', '--', DOVECOT, '-F', '-c', conf]]
      : [DOVECOT, ['-F', '-c', conf]];
    this.child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (text: string) => {
      if (this.stderr.length < STDERR_KEPT_CHARS) this.stderr += text;
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitStatus = signal === null ? `exit code ${String(code)}` : `signal ${signal}`;
        resolve();
      });
      this.child.once('error', (error) => {
        this.exitStatus = `failed to start: ${error.message}`;
        resolve();
      });
    });
    process.on('exit', this.exitHook);
  }

  /** Resolves once the port answers a POP3 greeting; throws with Dovecot's own words if it does not start. */
  async waitReady(port: number): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exitStatus !== undefined) throw new Error(`dovecot stopped during startup (${this.exitStatus}): ${this.diagnostics()}`);
      const greeting = await readGreeting(port);
      if (greeting?.startsWith('+OK')) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`dovecot did not answer +OK on 127.0.0.1:${port} within ${READY_TIMEOUT_MS} ms: ${this.diagnostics()}`);
  }

  async stop(): Promise<void> {
    process.off('exit', this.exitHook);
    if (this.exitStatus !== undefined) return;
    // SIGTERM lets the master stop its login, auth and pop3 processes.
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  private diagnostics(): string {
    let log = '';
    try {
      log = readFileSync(this.logPath, 'utf8').slice(-STDERR_KEPT_CHARS);
    } catch {
      // no log yet
    }
    const text = [this.stderr.trim(), log.trim()].filter((t) => t !== '').join('\n');
    return text === '' ? 'no output' : text;
  }
}

/** The first line the port sends, or undefined if it cannot be connected to or sends none. */
function readGreeting(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    const done = (line: string | undefined): void => {
      socket.destroy();
      resolve(line);
    };
    socket.setEncoding('utf8');
    socket.setTimeout(2000, () => done(undefined));
    socket.on('data', (data: string) => {
      text += data;
      if (text.includes('\n')) done(text.split('\n')[0]);
    });
    socket.on('error', () => done(undefined));
    socket.on('close', () => done(undefined));
  });
}
