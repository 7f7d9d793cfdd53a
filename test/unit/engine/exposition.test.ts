import { describe, expect, test } from '@jest/globals';
import type { Row } from '../../../src/core/plan.js';
import type { CheckOutcome } from '../../../src/core/runner.js';
import { StatusStore } from '../../../src/core/store.js';
import { AgentMetrics } from '../../../src/metrics/agentMetrics.js';
import { statusDocument, statusText } from '../../../src/output/status.js';
import type { ProbePlugin } from '../../../src/core/plugin.js';
import { plugins } from '../../../probes/index.js';

const plugin: ProbePlugin = {
  module: 'web',
  scope: 'Application server (HTTP and SOAP)',
  hint: 'Check this module if the console and web connections don\'t work and trigger an **xtk:session** type error',
  runsOn: 'machine',
  defaultSchedule: '*/30 * * * * *',
  expected: () => true,
  checks: () => [],
};
const row = (enabled = true): Row => ({ key: 'web@default', module: 'web', instance: 'default', plugin, enabled, note: enabled ? '' : 'not enabled on this host', schedule: plugin.defaultSchedule, timeoutMs: 1000, intervalMs: 30_000, failuresBeforeCritical: 1, successesBeforeOk: 1, confirmAfterMs: 0, checks: [] });
const outcome = (name: string, state: CheckOutcome['state'], message: string = state): CheckOutcome => ({ name, state, message, durationMs: 12, lastRun: 1_700_000_000_000, values: {}, labels: {} });

describe('status store', () => {
  test('state is the worst check, since only moves on a change', () => {
    const store = new StatusStore(() => 0);
    store.sync([row()], 1000);
    expect(store.get('web@default')).toMatchObject({ state: 'unknown', detail: 'not checked yet' });
    store.record(row(), [outcome('process', 'ok'), outcome('r_test', 'ok')], 2000);
    store.record(row(), [outcome('process', 'ok'), outcome('r_test', 'ok')], 3000);
    expect(store.get('web@default')).toMatchObject({ state: 'ok', since: 2000, lastRun: 3000 });
    store.record(row(), [outcome('process', 'ok'), outcome('r_test', 'critical', "status='KO'")], 4000);
    expect(store.get('web@default')).toMatchObject({ state: 'critical', since: 4000, detail: "r_test: status='KO'" });
  });

  test('a disabled row says why and has no checks', () => {
    const store = new StatusStore(() => 0);
    store.sync([row(false)], 1000);
    expect(store.get('web@default')).toMatchObject({ state: 'disabled', detail: 'not enabled on this host', checks: [] });
  });
});

describe('status rendering', () => {
  test('the JSON document has the documented shape', () => {
    const store = new StatusStore(() => 0);
    store.sync([row()], 1000);
    store.record(row(), [outcome('process', 'critical', 'no process')], 2000);
    const doc = statusDocument(store.all(), { version: '1.2.3', startedAt: 0 }, 5000);
    expect(doc).toEqual({
      state: 'critical',
      generatedAt: new Date(5000).toISOString(),
      agent: { version: '1.2.3', startedAt: new Date(0).toISOString() },
      modules: [
        {
          module: 'web',
          instance: 'default',
          scope: plugin.scope,
          state: 'critical',
          since: new Date(2000).toISOString(),
          lastRun: new Date(2000).toISOString(),
          detail: 'process: no process',
          remediation: plugin.hint,
          changes24h: 0,
          checks: [{ name: 'process', state: 'critical', message: 'no process', durationMs: 12, lastRun: new Date(1_700_000_000_000).toISOString() }],
        },
      ],
    });
  });

  test('before anything is planned the overall state is unknown, not ok', () => {
    expect(statusDocument([], { version: '1', startedAt: 0 }, 0).state).toBe('unknown');
    expect(statusText([], 0)).toContain('overall: UNKNOWN');
  });

  test('the text table shows the hint under failing rows only', () => {
    const store = new StatusStore(() => 0);
    store.sync([row()], 0);
    store.record(row(), [outcome('process', 'ok', 'running')], 0);
    expect(statusText(store.all(), 65_000)).not.toContain('hint:');
    store.record(row(), [outcome('process', 'critical', 'gone')], 65_000);
    const text = statusText(store.all(), 130_000);
    expect(text).toContain('overall: CRITICAL');
    expect(text).toMatch(/web\s+default\s+CRITICAL\s+1m 5s ago\s+process: gone/);
    expect(text).toContain(`hint: ${plugin.hint}`);
  });
});

describe('metrics', () => {
  test("the process's metrics and the results render apart, and together say what registry.metrics() says", async () => {
    const metrics = new AgentMetrics('1');
    const store = new StatusStore(() => 0);
    store.sync([row()], 0);
    metrics.updateRow(store.record(row(), [outcome('process', 'ok')], 1000));
    const [own, results, full] = [await metrics.renderProcess(), await metrics.renderResults(), await metrics.registry.metrics()];
    const names = (text: string) => [...text.matchAll(/^# TYPE (\S+)/gm)].map((match) => match[1]);
    expect(names(own).length).toBeGreaterThan(5);
    expect(names(own).every((name) => /^(process|nodejs)_/.test(name ?? ''))).toBe(true);
    expect(names(results)).toContain('campaign_module_up');
    expect(names(results).some((name) => /^(process|nodejs)_/.test(name ?? ''))).toBe(false);
    // Same series in the same order; only the process's own values move between two readings.
    expect(names(`${own}\n\n${results}\n`)).toEqual(names(full));
    expect(full.endsWith(`\n\n${results}\n`)).toBe(true);
  });

  test('a check that could not look exports no success, duration or last run series, but keeps its values', async () => {
    const metrics = new AgentMetrics('1');
    const store = new StatusStore(() => 0);
    store.sync([row()], 0);
    metrics.updateRow(store.record(row(), [outcome('process', 'ok'), { ...outcome('memory', 'ok'), values: { memory_bytes: 1024 } }], 1000));
    let text = await metrics.registry.metrics();
    expect(text).toContain('campaign_check_success{module="web",campaign_instance="default",check="memory"} 1');
    // The next run cannot look: the success series goes, the value stays, the row is judged by the rest.
    const notLooked = { ...outcome('memory', 'unknown', 'not looked: web not listed by nlserver pdump'), values: { memory_bytes: 0 }, noEvidence: true as const };
    metrics.updateRow(store.record(row(), [outcome('process', 'ok'), notLooked], 2000));
    text = await metrics.registry.metrics();
    expect(text).not.toMatch(/campaign_check_(success|duration_seconds|last_run_timestamp_seconds)\{[^}]*check="memory"/);
    expect(text).toContain('campaign_check_success{module="web",campaign_instance="default",check="process"} 1');
    expect(text).toContain('campaign_module_memory_bytes{module="web",campaign_instance="default"} 0');
    expect(text).toContain('campaign_module_up{module="web",campaign_instance="default"} 1');
    // It looks again: the series come back.
    metrics.updateRow(store.record(row(), [outcome('process', 'ok'), { ...outcome('memory', 'ok'), values: { memory_bytes: 2048 } }], 3000));
    expect(await metrics.registry.metrics()).toContain('campaign_check_success{module="web",campaign_instance="default",check="memory"} 1');
  });

  test('up, state, checks and hint (remediation_info) series; disabled rows export no up series', async () => {
    const metrics = new AgentMetrics('9.9.9');
    const store = new StatusStore(() => 0);
    store.sync([row()], 0);
    metrics.syncPlan([row()], [], (key) => store.get(key));
    let text = await metrics.registry.metrics();
    expect(text).toContain('campaign_module_up{module="web",campaign_instance="default"} 0');
    expect(text).toContain('campaign_module_state{module="web",campaign_instance="default",state="unknown"} 1');
    expect(text).toContain('campaign_agent_build_info{version="9.9.9"} 1');
    expect(text).toContain(`campaign_module_remediation_info{module="web",scope="Application server (HTTP and SOAP)",hint="${plugin.hint}"} 1`);
    expect(text).not.toContain('nodejs_active_handles_total');

    metrics.updateRow(store.record(row(), [{ ...outcome('r_test', 'ok'), values: { response_seconds: 0.25 } }], 1000));
    text = await metrics.registry.metrics();
    expect(text).toContain('campaign_module_up{module="web",campaign_instance="default"} 1');
    expect(text).toContain('campaign_check_success{module="web",campaign_instance="default",check="r_test"} 1');
    expect(text).toContain('campaign_check_duration_seconds{module="web",campaign_instance="default",check="r_test"} 0.012');
    expect(text).toContain('campaign_check_last_run_timestamp_seconds{module="web",campaign_instance="default",check="r_test"} 1700000000');
    expect(text).toContain('campaign_check_response_seconds{module="web",campaign_instance="default",check="r_test"} 0.25');

    store.sync([row(false)], 2000);
    metrics.updateRow(store.get('web@default')!);
    text = await metrics.registry.metrics();
    expect(text).not.toMatch(/campaign_module_up\{module="web"/);
    expect(text).not.toMatch(/campaign_check_success\{module="web"/);
    expect(text).toContain('campaign_module_state{module="web",campaign_instance="default",state="disabled"} 1');
    expect(text).toContain('campaign_module_state{module="web",campaign_instance="default",state="ok"} 0');
  });

  test('plugin-declared value metrics: their own label sets, result labels, and removal when a value goes', async () => {
    const jobs: ProbePlugin = {
      ...plugin,
      module: 'export',
      metrics: [
        { value: 'last_success_timestamp_seconds', name: 'campaign_job_last_success_timestamp_seconds', help: 'h', labels: ['module', 'campaign_instance', 'campaign_job'] },
        { value: 'system_load1', name: 'campaign_system_load1', help: 'h', labels: [] },
      ],
    };
    const exportRow: Row = { ...row(), key: 'export@prod', module: 'export', instance: 'prod', plugin: jobs };
    const metrics = new AgentMetrics('1', [jobs]);
    const store = new StatusStore(() => 0);
    store.sync([exportRow], 0);
    const job = (values: Record<string, number>) => ({ ...outcome('job_daily', 'ok'), values, labels: { campaign_job: 'daily-recipients' } });
    metrics.updateRow(store.record(exportRow, [job({ last_success_timestamp_seconds: 1_764_000_000, system_load1: 0.5 })], 1000));
    let text = await metrics.registry.metrics();
    expect(text).toContain('campaign_job_last_success_timestamp_seconds{module="export",campaign_instance="prod",campaign_job="daily-recipients"} 1764000000');
    expect(text).toMatch(/^campaign_system_load1 0.5$/m);
    expect(text).toContain('campaign_module_memory_bytes');

    metrics.updateRow(store.record(exportRow, [job({ system_load1: 0.75 })], 2000));
    text = await metrics.registry.metrics();
    expect(text).not.toContain('campaign_job="daily-recipients"');
    expect(text).toMatch(/^campaign_system_load1 0.75$/m);

    metrics.updateRow(store.record(exportRow, [], 3000));
    expect(await metrics.registry.metrics()).not.toMatch(/^campaign_system_load1 /m);
  });

  test('series updated in place: a value whose labels change moves, a removed row takes its series along', async () => {
    const jobs: ProbePlugin = {
      ...plugin,
      module: 'export',
      metrics: [{ value: 'last_success_timestamp_seconds', name: 'campaign_job_last_success_timestamp_seconds', help: 'h', labels: ['module', 'campaign_instance', 'campaign_job'] }],
    };
    const exportRow: Row = { ...row(), key: 'export@prod', module: 'export', instance: 'prod', plugin: jobs };
    const metrics = new AgentMetrics('1', [jobs]);
    const store = new StatusStore(() => 0);
    store.sync([exportRow], 0);
    const job = (name: string, at: number) => ({ ...outcome('job_daily', 'ok'), values: { last_success_timestamp_seconds: at }, labels: { campaign_job: name } });
    metrics.updateRow(store.record(exportRow, [job('a', 1)], 1000));
    metrics.updateRow(store.record(exportRow, [job('a', 2)], 2000));
    let text = await metrics.registry.metrics();
    expect(text.match(/campaign_job_last_success_timestamp_seconds\{/g)).toHaveLength(1);
    expect(text).toContain('campaign_job_last_success_timestamp_seconds{module="export",campaign_instance="prod",campaign_job="a"} 2');

    metrics.updateRow(store.record(exportRow, [job('b', 3)], 3000));
    text = await metrics.registry.metrics();
    expect(text).not.toContain('campaign_job="a"');
    expect(text).toContain('campaign_job_last_success_timestamp_seconds{module="export",campaign_instance="prod",campaign_job="b"} 3');

    metrics.syncPlan([], ['export@prod'], () => undefined);
    text = await metrics.registry.metrics();
    expect(text).not.toContain('module="export",campaign_instance="prod"');
    expect((await metrics.registry.getMetricsAsJSON()).find((metric) => metric.name === 'campaign_module_up')).toMatchObject({ type: 'gauge', values: [] });
  });

  test('no series labels the Campaign instance or a job `instance` or `job`: those are the target labels Prometheus adds', async () => {
    for (const label of ['instance', 'job']) {
      const clash: ProbePlugin = { ...plugin, metrics: [{ value: 'queue_size', name: 'campaign_queue_size', help: 'h', labels: ['module', label] }] };
      expect(() => new AgentMetrics('1', [clash])).toThrow(`campaign_queue_size: label ${label} is Prometheus' target label (use campaign_instance, campaign_job)`);
    }
    const metrics = new AgentMetrics('1', plugins);
    const declared = (await metrics.registry.getMetricsAsJSON()).map((metric) => ({
      name: metric.name,
      labels: (metrics.registry.getSingleMetric(metric.name) as unknown as { labelNames?: readonly string[] }).labelNames ?? [],
    }));
    expect(declared.filter(({ labels }) => labels.includes('instance') || labels.includes('job'))).toEqual([]);
    expect(declared.find(({ name }) => name === 'campaign_module_up')?.labels).toEqual(['module', 'campaign_instance']);
    expect(declared.find(({ name }) => name === 'campaign_job_last_success_timestamp_seconds')?.labels).toEqual(['module', 'campaign_instance', 'campaign_job']);
  });

  test('checks of one name told apart by their own labels: one series each, named apart in the detail', async () => {
    const growth: ProbePlugin = { ...plugin, module: 'trackinglogd', checkLabels: ['redir_instance'] };
    const check = (instance: string) => ({ name: 'redir_log', labels: { redir_instance: instance }, run: async () => ({ state: 'ok' as const, message: 'm' }) });
    const trackRow: Row = { ...row(), key: 'trackinglogd@default', module: 'trackinglogd', plugin: growth, checks: [check('prod'), check('test')] };
    const metrics = new AgentMetrics('1', [growth]);
    const store = new StatusStore(() => 0);
    store.sync([trackRow], 0);
    metrics.syncPlan([trackRow], [], () => undefined);
    const redir = (instance: string, state: CheckOutcome['state'], seconds: number): CheckOutcome => ({
      ...outcome('redir_log', state, `stalled ${seconds}s`),
      checkLabels: { redir_instance: instance },
      values: { seconds_since_growth: seconds },
    });
    const status = store.record(trackRow, [outcome('process', 'ok'), redir('prod', 'warning', 4000), redir('test', 'ok', 5)], 1000);
    expect(status.detail).toBe('redir_log{redir_instance="prod"}: stalled 4000s');
    metrics.updateRow(status);
    let text = await metrics.registry.metrics();
    expect(text).toContain('campaign_check_success{module="trackinglogd",campaign_instance="default",check="redir_log",redir_instance="prod"} 0');
    expect(text).toContain('campaign_check_success{module="trackinglogd",campaign_instance="default",check="redir_log",redir_instance="test"} 1');
    expect(text).toContain('campaign_file_growth_age_seconds{module="trackinglogd",campaign_instance="default",check="redir_log",redir_instance="prod"} 4000');
    expect(text).toContain('campaign_file_growth_age_seconds{module="trackinglogd",campaign_instance="default",check="redir_log",redir_instance="test"} 5');
    expect(text).toContain('campaign_check_success{module="trackinglogd",campaign_instance="default",check="process"} 1');
    // A directory gone (instance removed): its series go, the other's stay.
    metrics.updateRow(store.record(trackRow, [outcome('process', 'ok'), redir('test', 'ok', 6)], 2000));
    text = await metrics.registry.metrics();
    expect(text).not.toContain('redir_instance="prod"');
    expect(text).toContain('campaign_file_growth_age_seconds{module="trackinglogd",campaign_instance="default",check="redir_log",redir_instance="test"} 6');
  });

  test('a check label the plugin does not declare, or two checks a row cannot tell apart, are refused with the plan', () => {
    const check = (labels?: Record<string, string>) => ({ name: 'redir_log', ...(labels ? { labels } : {}), run: async () => ({ state: 'ok' as const, message: 'm' }) });
    const undeclared: Row = { ...row(), checks: [check({ redir_instance: 'prod' })] };
    expect(() => new AgentMetrics('1', [plugin]).syncPlan([undeclared], [], () => undefined)).toThrow("web@default: check redir_log has label redir_instance, not in its plugin's checkLabels");
    const declaring: ProbePlugin = { ...plugin, checkLabels: ['redir_instance'] };
    const twice: Row = { ...row(), plugin: declaring, checks: [check({ redir_instance: 'prod' }), check({ redir_instance: 'prod' })] };
    expect(() => new AgentMetrics('1', [declaring]).syncPlan([twice], [], () => undefined)).toThrow('web@default: two checks are redir_log{redir_instance="prod"}');
    for (const label of ['instance', 'campaign_instance', 'check']) {
      expect(() => new AgentMetrics('1', [{ ...plugin, checkLabels: [label] }])).toThrow(`check label ${label} is taken`);
    }
  });

  test('a value declared twice under two names is refused', () => {
    const clash: ProbePlugin = { ...plugin, metrics: [{ value: 'memory_bytes', name: 'campaign_other_bytes', help: 'h', labels: [] }] };
    expect(() => new AgentMetrics('1', [clash])).toThrow('check value memory_bytes is declared twice (campaign_module_memory_bytes, campaign_other_bytes)');
  });

  test('two agents in one process keep separate registries', async () => {
    const a = new AgentMetrics('1');
    const b = new AgentMetrics('2');
    expect(await a.registry.metrics()).toContain('version="1"');
    expect(await b.registry.metrics()).not.toContain('version="1"');
  });
});
