import { describe, expect, test } from '@jest/globals';
import { NlserverViewCache } from '../../../src/clients/nlserver/viewCache.js';
import { offView, type NlserverView } from '../../../src/clients/nlserver/view.js';

/** A reader that counts its runs and can be held open, on an injected clock. */
function harness(intervalMs = 60_000) {
  let now = 1_000_000;
  let reads = 0;
  let release: (() => void) | undefined;
  let hold = false;
  const read = async (): Promise<NlserverView> => {
    reads += 1;
    if (hold) await new Promise<void>((resolve) => (release = resolve));
    return offView(`read ${reads}`);
  };
  const cache = new NlserverViewCache(read, intervalMs, () => now);
  return {
    cache,
    reads: () => reads,
    advance: (ms: number) => (now += ms),
    now: () => now,
    hold: () => (hold = true),
    release: () => {
      hold = false;
      release?.();
    },
  };
}

describe('the nlserver view on its own schedule', () => {
  test('read once, then shared until the interval has passed', async () => {
    const h = harness();
    const first = await h.cache.get();
    expect(first.readAt).toBe(h.now());
    // Cycles every 30 s: the one at +30 s shares the view, the one at +60 s reads it again.
    h.advance(30_000);
    expect(await h.cache.get()).toBe(first);
    expect(h.reads()).toBe(1);
    h.advance(30_000);
    const second = await h.cache.get();
    expect(h.reads()).toBe(2);
    expect(second.reason).toBe('read 2');
  });

  test('a cycle a few ms early for its second still reads (timer jitter), one well before does not', async () => {
    const h = harness();
    await h.cache.get();
    h.advance(59_990);
    await h.cache.get();
    expect(h.reads()).toBe(2);
    h.advance(50_000);
    await h.cache.get();
    expect(h.reads()).toBe(2);
  });

  test('concurrent callers share one read: two schedules firing together start nlserver once', async () => {
    const h = harness();
    h.hold();
    const a = h.cache.get();
    const b = h.cache.get();
    h.release();
    expect(await a).toBe(await b);
    expect(h.reads()).toBe(1);
  });

  test('a clock set back reads again rather than trusting a view from the future', async () => {
    const h = harness();
    await h.cache.get();
    h.advance(-3_600_000);
    await h.cache.get();
    expect(h.reads()).toBe(2);
  });

  test('100 cycles a second apart over 100 s read the view twice (ceil(100/60)), not 100 times', async () => {
    const h = harness();
    for (let i = 0; i < 100; i++) {
      await h.cache.get();
      h.advance(1_000);
    }
    expect(h.reads()).toBe(2);
  });
});
