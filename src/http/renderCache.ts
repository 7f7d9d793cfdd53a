import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';

/**
 * Rendered /metrics and /status bodies, reused while no row changed and for at most `maxAgeMs`.
 * Results only change when a probe cycle records them, so under a burst of scrapes (200 clients)
 * rendering once per change instead of once per request keeps the event loop free for the probes.
 * Concurrent requests for the same body share one rendering.
 */
export class RenderCache {
  private readonly entries = new Map<string, { at: number; version: number | string; value: Promise<Rendered> }>();

  constructor(private readonly maxAgeMs = 1000) {}

  /** `maxAgeMs`: this entry's limit instead of the cache's (Infinity: valid for as long as its version). */
  get(key: string, version: number | string, render: () => string | Promise<string>, maxAgeMs = this.maxAgeMs): Promise<Rendered> {
    const now = performance.now();
    const hit = this.entries.get(key);
    if (hit && hit.version === version && now - hit.at < maxAgeMs) return hit.value;
    const value = Promise.resolve()
      .then(render)
      .then((text) => new Rendered(text));
    this.entries.set(key, { at: now, version, value });
    value.catch(() => this.entries.delete(key));
    return value;
  }
}

/**
 * A body encoded once, on first demand: /metrics is ~65 KB of text, and encoding it to UTF-8 for each of 50 scrapers
 * arriving together cost more than serving them. The gzip form (Prometheus always asks for it) is
 * made on first demand, once per rendering, and is a tenth of the size.
 */
export class Rendered {
  private encoded?: Buffer;
  private gzipped?: Buffer;

  // The text is kept: /metrics builds its body from the rendered results' text, never sent as such.
  constructor(readonly text: string) {}

  get body(): Buffer {
    this.encoded ??= Buffer.from(this.text, 'utf8');
    return this.encoded;
  }

  gzip(): Buffer {
    this.gzipped ??= gzipSync(this.body);
    return this.gzipped;
  }
}

/** Whether an Accept-Encoding header takes gzip (`gzip`, `*`, not `gzip;q=0`). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  let verdict = false;
  for (const part of header.toLowerCase().split(',')) {
    const [coding, ...params] = part.split(';').map((piece) => piece.trim());
    const q = params.find((param) => param.startsWith('q='));
    const refused = q !== undefined && !(Number(q.slice(2)) > 0);
    if (coding === 'gzip') return !refused;
    if (coding === '*') verdict = !refused;
  }
  return verdict;
}
