import cron from 'node-cron';

const cache = new Map<string, number>();
const FALLBACK_MS = 60_000;

/**
 * The time between two runs of a 6-field schedule, from node-cron's own calendar (so `0 0 6 * * *` is a
 * day, `*\/30 * * * * *` 30 s). Irregular schedules give the next gap; good enough for staleness bounds.
 */
export function scheduleIntervalMs(schedule: string): number {
  let interval = cache.get(schedule);
  if (interval === undefined) {
    const task = cron.createTask(schedule, () => {});
    const [first, second] = task.getNextRuns(2);
    void task.destroy();
    interval = first && second ? second.getTime() - first.getTime() : FALLBACK_MS;
    cache.set(schedule, interval);
  }
  return interval;
}
