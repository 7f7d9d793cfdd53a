import bcrypt from 'bcryptjs';
import { createHmac, randomBytes } from 'node:crypto';

/** How long a verified (user, password) pair skips bcrypt: a 30 s scrape pays bcrypt once a minute. */
export const VERIFIED_TTL_MS = 60_000;
/** bcrypt compares run one at a time; beyond this many waiting, requests are told to come back (503). */
const MAX_WAITING = 32;
/** Verified pairs kept at most (only right passwords are cached, so this is a safety bound only). */
const MAX_CACHED = 256;

export type AuthVerdict = 'ok' | 'denied' | 'busy';

/**
 * HTTP basic auth against bcrypt hashes, as exporter-toolkit's `basic_auth_users` does it.
 *
 * - An unknown user still costs one bcrypt compare (against a hash made at load time with the
 *   highest cost among the configured hashes), so timing does not tell which users exist.
 * - bcrypt is deliberately slow (bcryptjs at cost 10: ~50 ms of CPU). Prometheus sends the same
 *   credentials on every scrape, so a verified pair is remembered for VERIFIED_TTL_MS. The cache is
 *   keyed by an HMAC-SHA-256 of the pair under a random per-process key: the plaintext password is
 *   never kept, and a digest alone is of no use outside this process. Only right passwords are
 *   cached, so guessing cannot grow it; a SIGHUP builds a new BasicAuth, which drops it.
 * - Compares are serialized: a flood of wrong passwords queues behind one compare at a time (and is
 *   answered 503 past MAX_WAITING) while a scraper whose pair is cached never waits for bcrypt.
 */
export class BasicAuth {
  private readonly verified = new Map<string, number>();
  private readonly cacheKey = randomBytes(32);
  private queue: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  private constructor(
    private readonly users: ReadonlyMap<string, string>,
    private readonly decoy: string,
    private readonly now: () => number,
  ) {}

  static async create(users: ReadonlyMap<string, string>, now: () => number = Date.now): Promise<BasicAuth> {
    const rounds = Math.max(4, ...[...users.values()].map((hash) => bcrypt.getRounds(hash)));
    const decoy = await bcrypt.hash(randomBytes(16).toString('hex'), rounds);
    return new BasicAuth(users, decoy, now);
  }

  get userCount(): number {
    return this.users.size;
  }

  /** Checks an Authorization header value. */
  async verify(header: string | undefined): Promise<AuthVerdict> {
    const credentials = parseBasic(header);
    if (!credentials) return 'denied';
    const { user, password } = credentials;
    const key = createHmac('sha256', this.cacheKey).update(user).update('\0').update(password).digest('hex');
    const until = this.verified.get(key);
    if (until !== undefined) {
      if (until > this.now()) return 'ok';
      this.verified.delete(key);
    }
    if (this.waiting >= MAX_WAITING) return 'busy';
    const hash = this.users.get(user);
    const matches = await this.serialized(() => bcrypt.compare(password, hash ?? this.decoy));
    if (!matches || hash === undefined) return 'denied';
    if (this.verified.size >= MAX_CACHED) this.prune();
    this.verified.set(key, this.now() + VERIFIED_TTL_MS);
    return 'ok';
  }

  private serialized<T>(task: () => Promise<T>): Promise<T> {
    this.waiting += 1;
    const run = this.queue.then(task).finally(() => {
      this.waiting -= 1;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private prune(): void {
    const now = this.now();
    for (const [key, until] of this.verified) if (until <= now) this.verified.delete(key);
    if (this.verified.size >= MAX_CACHED) this.verified.clear();
  }
}

/** `Basic base64(user:password)`; undefined when absent or malformed. */
export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** A bcrypt hash as htpasswd -B, bcryptjs and Go's bcrypt write it ($2a$, $2b$ or $2y$, cost 4-31). */
export const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;
