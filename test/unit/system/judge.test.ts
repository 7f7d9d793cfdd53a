import { describe, expect, test } from '@jest/globals';
import { judge, listSome, percent, thresholdPercent, thresholdText } from '../../../src/checks/system/judge.js';

describe('judge', () => {
  const ratios = { warning: 0.8, critical: 0.9 };

  test('below the warning threshold is ok, and names the warning threshold', () => {
    expect(judge(0.79, ratios)).toEqual({ state: 'ok', level: 'warning', threshold: 0.8 });
  });

  test('at the warning threshold is a warning (Campaign turns orange at 80%)', () => {
    expect(judge(0.8, ratios)).toEqual({ state: 'warning', level: 'warning', threshold: 0.8 });
  });

  test('at or above the critical threshold is critical', () => {
    expect(judge(0.9, ratios)).toEqual({ state: 'critical', level: 'critical', threshold: 0.9 });
    expect(judge(1.5, ratios)).toEqual({ state: 'critical', level: 'critical', threshold: 0.9 });
  });

  test('counts: one core file with warning = critical = 1 is critical straight away', () => {
    expect(judge(0, { warning: 1, critical: 1 })).toEqual({ state: 'ok', level: 'critical', threshold: 1 });
    expect(judge(1, { warning: 1, critical: 1 }).state).toBe('critical');
  });

  test('counts: zombies 1 warns, 2 is critical', () => {
    expect(judge(1, { warning: 1, critical: 2 }).state).toBe('warning');
    expect(judge(2, { warning: 1, critical: 2 }).state).toBe('critical');
  });
});

describe('message pieces', () => {
  test('thresholdText names the level and formats the threshold', () => {
    expect(thresholdText(judge(0.85, { warning: 0.8, critical: 0.9 }), thresholdPercent)).toBe('warning at 80%');
    expect(thresholdText(judge(3, { warning: 1, critical: 2 }))).toBe('critical at 2');
  });

  test('percent rounds readings down, so a reading below a threshold never shows as the threshold', () => {
    expect(percent(0.799)).toBe('79%');
    expect(percent(0.29)).toBe('29%');
    expect(percent(0.85)).toBe('85%');
    expect(percent(0)).toBe('0%');
  });

  test('thresholdPercent keeps one decimal when there is one', () => {
    expect(thresholdPercent(0.8)).toBe('80%');
    expect(thresholdPercent(0.825)).toBe('82.5%');
  });

  test('listSome bounds a list for a one-line message', () => {
    expect(listSome(['1', '2'])).toBe('1, 2');
    expect(listSome(['1', '2', '3', '4'], 2)).toBe('1, 2 and 2 more');
  });
});
