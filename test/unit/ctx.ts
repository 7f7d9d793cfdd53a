import { createCycleSnapshot } from '../../src/snapshot/cycle.js';
import type { CheckContext, Logger } from '../../src/core/contracts.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export interface TestContext extends CheckContext {
  /** Aborts ctx.signal, as the runner does when a check's timeout passes. */
  abort(): void;
}

/**
 * A CheckContext as the runner builds it: a fresh cycle snapshot of the real /proc, an abort signal,
 * a clock (real unless injected) and memory (fresh unless shared to simulate successive runs).
 */
export function makeContext(opts: { now?: () => number; memory?: Map<string, unknown> } = {}): TestContext {
  const controller = new AbortController();
  return {
    signal: controller.signal,
    snapshot: createCycleSnapshot(),
    now: opts.now ?? (() => Date.now()),
    memory: opts.memory ?? new Map(),
    log: silent,
    abort: () => controller.abort(),
  };
}
