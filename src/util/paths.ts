import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What scripts/bundle.mjs writes into the single-file bundle through esbuild's `define`. The bundle is
 * installed alone (/opt/campaign-health/campaign-health.mjs), with no package.json or config/ beside
 * it, so it carries the version and the default config text itself. Under tsc (dist/) and jest the
 * identifier is never defined, and `typeof` keeps that from throwing.
 */
declare const CAMPAIGN_HEALTH_BUNDLE: BundleInfo | undefined;

export interface BundleInfo {
  version: string;
  /** The text of config/agent.yaml when the bundle was built. */
  defaultConfig: string;
}

export const BUNDLE: BundleInfo | undefined = typeof CAMPAIGN_HEALTH_BUNDLE === 'undefined' ? undefined : CAMPAIGN_HEALTH_BUNDLE;

let cached: string | undefined;

/**
 * The package root (where package.json lives), whether we run from src/ under jest or from dist/.
 * Not available inside the bundle (nothing to find there): runtime code asks BUNDLE first.
 */
export function projectRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  cached = dir;
  return dir;
}
