import { performance } from 'node:perf_hooks';

/**
 * Rendered /metrics and /status bodies, reused while no row changed and for at most `maxAgeMs`.
 * Results only change when a probe cycle records them, so under a burst of scrapes (200 clients)
 * rendering once per change instead of once per request keeps the event loop free for the probes.
 * Concurrent requests for the same body share one rendering.
 */
export class RenderCache {
  private readonly entries = new Map<string, { at: number; version: number | string; value: Promise<string> }>();

  constructor(private readonly maxAgeMs = 1000) {}

  get(key: string, version: number | string, render: () => string | Promise<string>): Promise<string> {
    const now = performance.now();
    const hit = this.entries.get(key);
    if (hit && hit.version === version && now - hit.at < this.maxAgeMs) return hit.value;
    const value = Promise.resolve().then(render);
    this.entries.set(key, { at: now, version, value });
    value.catch(() => this.entries.delete(key));
    return value;
  }
}
