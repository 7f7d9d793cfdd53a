import { test } from '@jest/globals';
import { SimulatedHost } from './sim/host.js';
import { runCli } from './integration/helpers.js';
test('x', async () => {
  const sim = await SimulatedHost.start({ instances: ['prod'], trackingIntervalMs: 200 });
  try {
    const config = await sim.writeAgentConfig({ defaults: { timeout: '2s' }, modules: { system: { enabled: false } } });
    await sim.kill('watchdog');
    const r = await runCli(['check', '--config', config, '--format', 'json', '--module', 'watchdog']);
    process.stdout.write(r.stdout.slice(0, 3000) + '\nERR ' + r.stderr.slice(0, 2000) + '\n');
  } finally { await sim.stop(); }
}, 60000);
