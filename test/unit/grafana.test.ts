import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { plugins } from '../../probes/index.js';
import { AgentMetrics } from '../../src/metrics/agentMetrics.js';
import { projectRoot } from '../../src/util/paths.js';

// The shipped Grafana dashboard may only query series the agent really exports, with the labels they
// really carry once Prometheus has scraped them with the shipped scrape job (config/prometheus/scrape.yml);
// a renamed metric or label must break this test, not the dashboard.

const DASHBOARD = path.join(projectRoot(), 'config', 'grafana', 'campaign-health.json');
const SCRAPE_CONFIG = path.join(projectRoot(), 'config', 'prometheus', 'scrape.yml');
/** The shipped scrape job; the dashboard names it where `job` is the target's (host variable, `up`). */
const SCRAPE_JOB = 'campaign-health';

/**
 * campaign_ metrics deliberately not on the dashboard. Keep it short: each entry needs a reason.
 */
const LEFT_OUT: Readonly<Record<string, string>> = {
  // All SysV segments, including the one trackinglogd and web hold on every redirection server by
  // design (see docs/system-indicators.md): never 0, so not a signal; the orphaned count is shown.
  campaign_system_shm_segments: 'by-design segments make the total meaningless',
  // Opt-in automatic restarts (off by default): series exist only where it is configured; the
  // docs/restarts.md gives the alert expressions for both.
  campaign_restart_actions_total: 'opt-in feature, alerted on rather than graphed',
  campaign_restart_suppressed: 'opt-in feature, alerted on rather than graphed',
  // Whether the last SIGHUP reload was refused: an event on one host, shown by the agent's log and
  // its alertable gauge, not a time series worth a panel.
  campaign_agent_config_last_reload_success: 'reload outcome, read from the log or alerted on',
  campaign_agent_config_last_reload_success_timestamp_seconds: 'reload outcome, read from the log or alerted on',
  // The history (docs/history.md): its own page, /events and the CLI show what changed with the detail;
  // whether the state directory is writable is a 0/1 to alert on, not to graph.
  campaign_module_state_changes_total: 'read with its detail from /events and the status page',
  campaign_agent_state_writable: 'a 0/1 per host, alerted on rather than graphed',
};

/**
 * Target labels Prometheus puts on every series it scrapes: the scrape address and the scrape job. The
 * shipped job keeps Prometheus' default honor_labels: false and the agent never sets them (it says
 * `campaign_instance` and `campaign_job`), so on every series they are the target's. Its relabelling adds
 * `host` (the server) to every series; the agent never sets `host`. Labels from the targets file (env,
 * role...) exist too but are the user's, not queried.
 */
const TARGET_LABELS = ['instance', 'job'] as const;
const HOST_LABEL = 'host';
/**
 * Labels naming a Campaign instance: the row's, and the one trackinglogd's redir_log checks watch
 * (trackinglogd itself is per machine, Campaign instance `default`). Both are matched against the
 * $campaign_instance variable; a selector of Campaign-instance series uses one of them.
 */
const CAMPAIGN_INSTANCE_LABELS = ['campaign_instance', 'redir_instance'] as const;

/** Metrics Prometheus generates per target rather than scraping. */
const PROMETHEUS_METRICS: Readonly<Record<string, readonly string[]>> = { up: [] };

/** PromQL functions and aggregations the dashboard may call; anything else followed by `(` is a typo. */
const FUNCTIONS = new Set([
  'abs', 'absent', 'avg', 'avg_over_time', 'bottomk', 'ceil', 'changes', 'clamp', 'clamp_max', 'clamp_min', 'count',
  'count_over_time', 'delta', 'deriv', 'floor', 'increase', 'irate', 'label_replace', 'last_over_time', 'max',
  'max_over_time', 'min', 'min_over_time', 'rate', 'resets', 'round', 'scalar', 'sort', 'sort_desc', 'sum',
  'sum_over_time', 'time', 'timestamp', 'topk', 'vector',
]);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);
/** Grafana's built-in variables an expression may use besides the dashboard's own. */
const GRAFANA_VARIABLES = new Set(['__rate_interval', '__interval', '__range']);

interface Target {
  expr?: string;
  refId?: string;
  legendFormat?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id?: number;
  type?: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
  datasource?: { type?: string; uid?: string };
}
interface Dashboard {
  schemaVersion: number;
  uid: string;
  title: string;
  description: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

function load(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
}

/** Metric names of an expression: label matchers, ranges, grouping clauses, variables, functions and keywords removed. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ');
  const names = new Set<string>();
  // The lookbehind keeps the exponent or unit of a number (1e3, 5m) from reading as a name.
  for (const match of stripped.matchAll(/(?<![\w.:])[A-Za-z_:][\w:]*/g)) {
    const word = match[0];
    const isCall = /^\s*\(/.test(stripped.slice(match.index + word.length));
    if (isCall) {
      if (!FUNCTIONS.has(word)) names.add(`${word}()`); // reported as unknown: not a function we know
      continue;
    }
    if (!KEYWORDS.has(word)) names.add(word);
  }
  return [...names];
}

/** `metric{label op "value", ...}` selectors of an expression. */
function selectors(expr: string): { metric: string; matchers: { label: string; op: string; value: string }[] }[] {
  return [...expr.matchAll(/([A-Za-z_:][\w:]*)\s*\{([^}]*)\}/g)].map(([, metric, body]) => ({
    metric: metric!,
    matchers: [...body!.matchAll(/([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map(([, label, op, value]) => ({ label: label!, op: op!, value: value! })),
  }));
}

/** Labels of a metric as a query sees them after the shipped scrape job (honor_labels: false, `host` relabelled). */
function scrapedLabels(own: readonly string[]): Set<string> {
  return new Set([...own, HOST_LABEL, ...TARGET_LABELS]);
}

function allExprs(dashboard: Dashboard): { where: string; panel: string; expr: string; legend: string }[] {
  return dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({
      where: `${panel.title} / ${target.refId}`,
      panel: panel.title ?? '',
      expr: target.expr ?? '',
      legend: target.legendFormat ?? '',
    })),
  );
}

function variableQuery(variable: Variable): string {
  return typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
}

/** Every metric an expression names that the agent (or Prometheus) does not export. */
function unknownMetrics(dashboard: Dashboard, exported: ReadonlyMap<string, readonly string[]>): string[] {
  return allExprs(dashboard).flatMap(({ where, expr }) => metricNames(expr).filter((name) => !exported.has(name)).map((name) => `${where}: ${name}`));
}

/** Selectors filtering on a label the series lacks, or on host / Campaign instance with the wrong meaning. */
function selectorProblems(dashboard: Dashboard, exported: ReadonlyMap<string, readonly string[]>): string[] {
  const problems: string[] = [];
  for (const { where, expr } of allExprs(dashboard)) {
    for (const { metric, matchers } of selectors(expr)) {
      const own = exported.get(metric);
      if (!own) continue; // reported by the metric-name test
      const labels = scrapedLabels(own);
      for (const { label, op, value } of matchers) {
        const matcher = `${label}${op}"${value}"`;
        if (!labels.has(label)) problems.push(`${where}: ${metric} has no label ${label} once scraped`);
        if (label === HOST_LABEL && matcher !== `${HOST_LABEL}=~"$host"`) problems.push(`${where}: ${metric} filters the host with ${matcher}`);
        if (label === 'instance') problems.push(`${where}: ${metric}'s instance is the scrape address, not a Campaign instance (filter the server by host, the Campaign instance by campaign_instance)`);
        if (label === 'job' && value !== SCRAPE_JOB) problems.push(`${where}: ${metric}'s job is the scrape job ${SCRAPE_JOB}, matched with ${value} (an export or import job is campaign_job)`);
        if ((CAMPAIGN_INSTANCE_LABELS as readonly string[]).includes(label) && matcher !== `${label}=~"$campaign_instance"`) problems.push(`${where}: ${metric} filters the Campaign instance with ${matcher}`);
      }
      // One host picker for the whole dashboard: a selector without it shows every host.
      if (!matchers.some(({ label }) => label === HOST_LABEL)) problems.push(`${where}: ${metric} is not filtered by $host`);
      // And one Campaign instance picker for every series of a Campaign instance.
      if (own.includes('campaign_instance') && !matchers.some(({ label }) => (CAMPAIGN_INSTANCE_LABELS as readonly string[]).includes(label))) {
        problems.push(`${where}: ${metric} is not filtered by $campaign_instance`);
      }
    }
  }
  return problems;
}

/**
 * Grouping clauses, joins and legends naming labels the queried metrics lack; aggregations and joins
 * without `host` (they would mix servers); a join on a label one of its sides lacks (the right side is
 * the metric after the clause, the left the expression's first metric); legends showing the target's
 * `instance` or `job` (the scrape address and job, where a reader expects a Campaign instance or job).
 */
function groupingProblems(dashboard: Dashboard, exported: ReadonlyMap<string, readonly string[]>): string[] {
  const problems: string[] = [];
  for (const { where, expr, legend } of allExprs(dashboard)) {
    const names = metricNames(expr);
    const labels = new Set(names.flatMap((name) => [...scrapedLabels(exported.get(name) ?? [])]));
    const clauses = [...expr.matchAll(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)].map((match) => ({
      keyword: match[1]!,
      list: match[2]!.split(',').map((label) => label.trim()).filter(Boolean),
      end: match.index + match[0].length,
    }));
    const legends = [...legend.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map(([, label]) => label!);
    for (const label of [...clauses.flatMap(({ list }) => list), ...legends]) if (!labels.has(label)) problems.push(`${where}: no label ${label}`);
    for (const label of legends.filter((name) => (TARGET_LABELS as readonly string[]).includes(name))) {
      problems.push(`${where}: legend {{${label}}} is the scrape target's ${label} (show host, campaign_instance or campaign_job)`);
    }
    for (const { keyword, list, end } of clauses) {
      if ((keyword === 'by' || keyword === 'on') && !list.includes(HOST_LABEL)) problems.push(`${where}: ${keyword} (${list.join(', ')}) without ${HOST_LABEL}`);
      if (keyword !== 'on') continue;
      const left = names[0];
      const right = metricNames(expr.slice(end).replace(/^\s*group_(?:left|right)\s*\([^)]*\)/, ''))[0];
      if (!left || !right) continue;
      for (const [side, metric] of [['left', left], ['right', right]] as const) {
        const lacking = list.filter((label) => !scrapedLabels(exported.get(metric) ?? []).has(label));
        if (lacking.length > 0) problems.push(`${where}: on (${list.join(', ')}) joins on ${lacking.join(', ')}, which ${metric} (${side}) lacks: nothing matches`);
      }
    }
  }
  return problems;
}

async function exportedMetrics(): Promise<Map<string, readonly string[]>> {
  const metrics = new AgentMetrics('test', plugins);
  const names = (await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name);
  const exported = new Map<string, readonly string[]>(Object.entries(PROMETHEUS_METRICS));
  for (const name of names) {
    // prom-client keeps the declared label names on the metric object; its typings do not expose them.
    const labelNames = (metrics.registry.getSingleMetric(name) as unknown as { labelNames?: readonly string[] }).labelNames ?? [];
    exported.set(name, labelNames);
  }
  return exported;
}

describe('Grafana dashboard', () => {
  const dashboard = load();

  test('is a Grafana dashboard document', () => {
    expect(dashboard.schemaVersion).toBe(39);
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(dashboard.title).toBeTruthy();
    expect(dashboard.panels.length).toBeGreaterThan(0);
    // The label handling is a deployment assumption; the description is where users read it.
    expect(dashboard.description).toContain('config/prometheus/scrape.yml');
    expect(dashboard.description).toContain('honor_labels: false');
    expect(dashboard.description).toContain('`host`');
    expect(dashboard.description).toContain('`campaign_instance`');
  });

  test('the shipped scrape job is the one the label checks model: honor_labels false and a host label', () => {
    const config = YAML.parse(readFileSync(SCRAPE_CONFIG, 'utf8')) as {
      scrape_configs: { job_name: string; honor_labels?: boolean; relabel_configs?: { target_label?: string }[] }[];
    };
    const job = config.scrape_configs.find((candidate) => candidate.job_name === SCRAPE_JOB);
    expect(job).toBeDefined();
    // No job of the file lets scraped labels override the target's.
    expect(config.scrape_configs.filter((candidate) => candidate.honor_labels !== undefined && candidate.honor_labels !== false)).toEqual([]);
    expect((job!.relabel_configs ?? []).map((rule) => rule.target_label)).toContain(HOST_LABEL);
  });

  test("the agent never sets a target label: instance and job are the scrape target's on every series", async () => {
    const exported = await exportedMetrics();
    expect([...exported].filter(([name, labels]) => !(name in PROMETHEUS_METRICS) && labels.some((label) => (TARGET_LABELS as readonly string[]).includes(label)))).toEqual([]);
    expect(exported.get('campaign_job_last_success_timestamp_seconds')).toEqual(['module', 'campaign_instance', 'campaign_job']);
    expect(exported.get('campaign_file_growth_age_seconds')).toEqual(['module', 'campaign_instance', 'check', 'redir_instance']);
  });

  test('the data source is a templated Prometheus variable used by every panel and target', () => {
    const datasource = dashboard.templating.list.find((variable) => variable.name === 'datasource');
    expect(datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const templated = { type: 'prometheus', uid: '${datasource}' };
    for (const panel of dashboard.panels) {
      expect({ title: panel.title, datasource: panel.datasource }).toEqual({ title: panel.title, datasource: templated });
      for (const target of panel.targets ?? []) {
        if (target.datasource) expect({ title: panel.title, datasource: target.datasource }).toEqual({ title: panel.title, datasource: templated });
      }
    }
  });

  test('every panel has a unique id, a title, a place on the grid and queries', () => {
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(typeof panel.id).toBe('number');
      expect(panel.title?.trim()).toBeTruthy();
      expect(panel.type).toBeTruthy();
      const grid = panel.gridPos;
      expect(grid && [grid.x, grid.y, grid.w, grid.h].every(Number.isInteger)).toBe(true);
      expect(grid!.x >= 0 && grid!.w > 0 && grid!.h > 0 && grid!.x + grid!.w <= 24).toBe(true);
      const targets = panel.targets ?? [];
      expect({ title: panel.title, targets: targets.length > 0 }).toEqual({ title: panel.title, targets: true });
      for (const target of targets) expect({ title: panel.title, expr: Boolean(target.expr?.trim()) }).toEqual({ title: panel.title, expr: true });
      const refIds = targets.map((target) => target.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
    }
  });

  test('panels do not overlap', () => {
    const overlaps: string[] = [];
    const panels = dashboard.panels;
    for (const [i, a] of panels.entries()) {
      for (const b of panels.slice(i + 1)) {
        const [p, q] = [a.gridPos!, b.gridPos!];
        if (p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h) overlaps.push(`${a.title} / ${b.title}`);
      }
    }
    expect(overlaps).toEqual([]);
  });

  test('the name extractor finds metrics and skips functions, labels, keywords, ranges and variables', () => {
    expect(
      metricNames(
        'max by (host, module) (time() - campaign_a_seconds{host=~"$host", check="x_y"}) ' +
          '* on (host) group_left (hint) campaign_b_info{host=~"${host}"} > 1e3 ' +
          'or 60 * rate(campaign_c_total[$__rate_interval]) and bool up',
      ).sort(),
    ).toEqual(['campaign_a_seconds', 'campaign_b_info', 'campaign_c_total', 'up']);
    expect(metricNames('campagn_module_up == 0')).toEqual(['campagn_module_up']);
    expect(metricNames('mx(campaign_module_up)')).toEqual(['mx()', 'campaign_module_up']);
  });

  test('every expression uses only metrics the agent exports', async () => {
    const exported = await exportedMetrics();
    // Guards the registry read itself: an empty or label-less map would make the checks below vacuous.
    expect(exported.get('campaign_module_up')).toEqual(['module', 'campaign_instance']);
    expect(unknownMetrics(dashboard, exported)).toEqual([]);
  });

  test('a misspelt metric is caught', async () => {
    const exported = await exportedMetrics();
    const broken = load();
    const target = broken.panels.flatMap((panel) => panel.targets ?? []).find((t) => t.expr?.includes('campaign_module_up'))!;
    target.expr = target.expr!.replace('campaign_module_up', 'campaign_modules_up');
    // Compared with the intact dashboard, so this test only speaks about the one misspelling.
    const before = unknownMetrics(load(), exported);
    const after = unknownMetrics(broken, exported);
    expect(after.filter((problem) => !before.includes(problem))).toEqual([expect.stringContaining('campaign_modules_up')]);
  });

  test('selectors filter on labels the scraped series carry: host everywhere, $campaign_instance on every Campaign-instance series', async () => {
    expect(selectorProblems(dashboard, await exportedMetrics())).toEqual([]);
  });

  test('grouping clauses, joins and legends name labels of the metrics they query, with the same meaning on both sides', async () => {
    expect(groupingProblems(dashboard, await exportedMetrics())).toEqual([]);
  });

  test('the label checks catch queries written for the old labels (instance, job kept by honor_labels: true)', async () => {
    const exported = await exportedMetrics();
    const broken = load();
    const targets = broken.panels.flatMap((panel) => panel.targets ?? []);
    // The host as the scrape address, the Campaign instance as `instance`, the hints joined on the
    // Campaign instance, the export job as `job`, in legend and matcher.
    const system = targets.find((t) => t.expr?.startsWith('campaign_system_load1{'))!;
    system.expr = system.expr!.replace('host=~"$host"', 'instance=~"$host"');
    const memory = targets.find((t) => t.expr?.startsWith('campaign_module_memory_bytes{'))!;
    memory.expr = memory.expr!.replace('campaign_instance=~"$campaign_instance"', 'instance=~"$campaign_instance"');
    const hints = targets.find((t) => t.expr?.includes('campaign_module_remediation_info'))!;
    hints.expr = hints.expr!.replace('on (host, module) group_left (scope, hint)', 'on (host, campaign_instance, module) group_left (scope, hint)');
    const job = targets.find((t) => t.expr?.includes('campaign_job_last_success_timestamp_seconds'))!;
    job.legendFormat = job.legendFormat!.replace('{{campaign_job}}', '{{job}}');
    job.expr = job.expr!.replace('campaign_instance=~"$campaign_instance"}', 'campaign_instance=~"$campaign_instance", job="recipients"}');
    // Compared with the intact dashboard, so this test only speaks about the changes above.
    const before = [...selectorProblems(load(), exported), ...groupingProblems(load(), exported)];
    const after = [...selectorProblems(broken, exported), ...groupingProblems(broken, exported)].filter((problem) => !before.includes(problem));
    const address = 'instance is the scrape address, not a Campaign instance (filter the server by host, the Campaign instance by campaign_instance)';
    expect(after.sort()).toEqual(
      [
        'Load vs CPUs / A: campaign_system_load1 is not filtered by $host',
        `Load vs CPUs / A: campaign_system_load1's ${address}`,
        `Module memory / A: campaign_module_memory_bytes's ${address}`,
        'Module memory / A: campaign_module_memory_bytes is not filtered by $campaign_instance',
        'Failing modules: troubleshooting hints / A: on (host, campaign_instance, module) joins on campaign_instance, which campaign_module_remediation_info (right) lacks: nothing matches',
        "Job last success age / A: legend {{job}} is the scrape target's job (show host, campaign_instance or campaign_job)",
        "Job last success age / A: campaign_job_last_success_timestamp_seconds's job is the scrape job campaign-health, matched with recipients (an export or import job is campaign_job)",
      ].sort(),
    );
  });

  test('variables query exported metrics, and expressions use only defined variables', async () => {
    const exported = await exportedMetrics();
    const variables = dashboard.templating.list;
    const byName = new Map(variables.map((variable) => [variable.name, variable]));
    expect([...byName.keys()].sort()).toEqual(['campaign_instance', 'datasource', 'host']);
    // The host is the relabelled `host` of the scrape job's targets; the Campaign instance is the agent's
    // `campaign_instance`, so it must come from a metric that sets it.
    const host = /^label_values\((.+),\s*host\)$/.exec(variableQuery(byName.get('host')!))?.[1];
    expect(host).toBeDefined();
    expect(selectors(host!)).toEqual([expect.objectContaining({ matchers: [{ label: 'job', op: '=', value: SCRAPE_JOB }] })]);
    expect(exported.get(selectors(host!)[0]!.metric)).not.toContain('job');
    const campaignInstance = /^label_values\((.+),\s*campaign_instance\)$/.exec(variableQuery(byName.get('campaign_instance')!))?.[1];
    expect(campaignInstance).toBeDefined();
    expect(selectors(campaignInstance!)).toEqual([expect.objectContaining({ matchers: [{ label: 'host', op: '=~', value: '$host' }] })]);
    expect(exported.get(selectors(campaignInstance!)[0]!.metric)).toContain('campaign_instance');
    for (const variable of variables.filter((v) => v.type === 'query')) {
      expect(variable.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      const query = variableQuery(variable);
      const inner = /^label_values\((.+),\s*\w+\)$/.exec(query)?.[1];
      expect(inner).toBeDefined();
      expect(metricNames(inner!).filter((name) => !exported.has(name))).toEqual([]);
      expect(metricNames(inner!).length).toBeGreaterThan(0);
    }
    const used = allExprs(dashboard).flatMap(({ expr }) => [...expr.matchAll(/\$\{?(\w+)/g)].map(([, name]) => name!));
    expect(used.filter((name) => !byName.has(name) && !GRAFANA_VARIABLES.has(name))).toEqual([]);
  });

  test('every campaign_ metric is on a panel or deliberately left out', async () => {
    const exported = await exportedMetrics();
    const shown = new Set(allExprs(dashboard).flatMap(({ expr }) => metricNames(expr)));
    const campaign = [...exported.keys()].filter((name) => name.startsWith('campaign_'));
    expect(campaign.filter((name) => !shown.has(name) && !(name in LEFT_OUT))).toEqual([]);
    // The allow-list must not go stale: entries are real metrics that are really absent.
    for (const name of Object.keys(LEFT_OUT)) {
      expect({ name, exported: exported.has(name), shown: shown.has(name) }).toEqual({ name, exported: true, shown: false });
    }
  });
});
