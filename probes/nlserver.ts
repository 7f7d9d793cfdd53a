import { existsSync } from 'node:fs';
import { nlserverCommandCheck } from '../src/checks/nlserverCommand.js';
import { definePlugin } from '../src/core/plugin.js';

// Not a Campaign module: the agent's view through Campaign's own CLI, shared by every module row
// (process list with memory from pdump, and what `monitor -missing` says should run and does not).
export const nlserver = definePlugin({
  module: 'nlserver',
  kind: 'host',
  scope: "Campaign's own view of its processes: nlserver pdump and nlserver monitor -missing, run once per probe cycle",
  hint:
    'Run `nlserver pdump` as the Campaign user (neolane) to see why it fails: check campaign.nlserver and campaign.installDir, ' +
    "the Campaign user's environment (env.sh, customer.sh) and the watchdog. Meanwhile modules are judged from the process table.",
  runsOn: 'machine',
  defaultSchedule: '*/30 * * * * *',
  expected: (_install, _instance, config) =>
    config.campaign.nlserverView === true || (config.campaign.nlserverView === 'auto' && existsSync(config.campaign.nlserver)),
  notExpectedNote: () => 'nlserver integration off (campaign.nlserverView: false, or auto with no nlserver binary at campaign.nlserver)',
  metrics: [{ value: 'nlserver_up', name: 'campaign_nlserver_up', help: '1 when the nlserver command ran and printed output of the documented shape, 0 otherwise.', labels: ['command'] }],
  checks: () => [nlserverCommandCheck('pdump'), nlserverCommandCheck('monitor_missing')],
});
