import type { Metric, Registry } from 'prom-client';

/** One exported series: its labels and the current value, updated in place. */
export interface Series {
  readonly labels: Readonly<Record<string, string>>;
  value: number;
}

/**
 * A gauge for the per-row results, written ~500 times per probe cycle. prom-client's Gauge.set sorts
 * the label names, builds a hash string and allocates a new series on every call: a third of what
 * a cycle allocated, and the garbage collection it caused (bench/README.md). Here the caller keeps
 * the Series it got once and sets its value; prom-client's registry still formats the exposition.
 */
export class SeriesGauge {
  readonly type = 'gauge';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /**
   * The series with these labels, created (value 0) the first time. A label without a value is left
   * out of the series, as Prometheus does (an empty label is no label): check series carry a check's
   * own labels (redir_instance) only when it has them.
   */
  at(labels: Readonly<Record<string, string>>): Series {
    const key = this.key(labels);
    let series = this.series.get(key);
    if (!series) {
      const present = this.labelNames.filter((name) => (labels[name] ?? '') !== '');
      series = { labels: Object.fromEntries(present.map((name) => [name, labels[name]!])), value: 0 };
      this.series.set(key, series);
    }
    return series;
  }

  remove(labels: Readonly<Record<string, string>>): void {
    this.series.delete(this.key(labels));
  }

  /** What prom-client's registry reads when it renders the metric or lists it as JSON. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Series[] }> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...this.series.values()] };
  }

  reset(): void {
    this.series.clear();
  }

  private key(labels: Readonly<Record<string, string>>): string {
    return JSON.stringify(this.labelNames.map((name) => labels[name] ?? ''));
  }
}
