import { describe, expect, test } from '@jest/globals';
import { assertCheckName, firstLine, formatBytes, formatDuration, snippet } from '../../../src/util/format.js';

describe('formatDuration', () => {
  test.each([
    [-5, '0ms'],
    [0, '0ms'],
    [850, '850ms'],
    [12_000, '12s'],
    [60_000, '1m'],
    [303_000, '5m 3s'],
    [30 * 60_000, '30m'],
    [3_720_000, '1h 2m'],
    [3_725_000, '1h 2m'],
    [7_200_000, '2h'],
    [7_201_000, '2h'],
    [(3 * 86_400 + 4 * 3600) * 1000, '3d 4h'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('formatBytes', () => {
  test.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [3277, '3.2 KiB'],
    [1536 * 1024, '1.5 MiB'],
    [2 * 1024 ** 3, '2.0 GiB'],
  ])('%d is %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('snippet / firstLine', () => {
  test('control characters and line breaks become single spaces', () => {
    expect(snippet('a\r\n\tb\u0000\u001bc  d', 80)).toBe('a b c d');
  });

  test('long text is cut with an ellipsis', () => {
    expect(snippet('abcdef', 3)).toBe('abc…');
  });

  test('firstLine skips blank lines', () => {
    expect(firstLine('\n   \n  hello world \nnext', 200)).toBe('hello world');
  });
});

describe('assertCheckName', () => {
  test('accepts metric-label-safe names and rejects others', () => {
    expect(assertCheckName('tcp_8080')).toBe('tcp_8080');
    expect(() => assertCheckName('')).toThrow('check name must match [a-z0-9_]+, got ""');
    expect(() => assertCheckName('r/test')).toThrow('got "r/test"');
  });
});
