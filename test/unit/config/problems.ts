import { plugins } from '../../../probes/index.js';
import { ConfigError, parseConfig } from '../../../src/config/load.js';

export const FILE = '/etc/campaign-health/agent.yaml';

/** The problem lines of a config the agent must refuse; fails the test when it is accepted. */
export function problemsOf(yaml: string): string[] {
  try {
    parseConfig(plugins, yaml, FILE);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('config was accepted');
}
