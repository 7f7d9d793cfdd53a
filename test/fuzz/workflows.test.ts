// Fuzz: Campaign's dates in SOAP answers (parseCampaignDate, the Tracking workflow's last run).
import { describe, test } from '@jest/globals';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { parseCampaignDate } from '../../src/checks/workflows.js';
import { check, junk, mutated, tokenText } from './runs.js';

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** A date as Campaign (or ISO 8601) writes it, and the instant it names. */
const campaignDate = fc
  .record({
    ms: fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2199, 11, 31) }),
    sep: fc.constantFrom(' ', 'T'),
    seconds: fc.constantFrom('none', 'whole', 'fraction'),
    digits: fc.integer({ min: 1, max: 3 }),
    zone: fc.constantFrom('Z', 'none', 'colon', 'compact'),
    offsetMin: fc.integer({ min: -14 * 60, max: 14 * 60 }),
    pad: fc.constantFrom('', ' ', '\n'),
  })
  .map((g) => {
    const offset = g.zone === 'Z' || g.zone === 'none' ? 0 : g.offsetMin;
    // Drop what the text will not say, then write the wall time at that offset.
    const unit = g.seconds === 'none' ? 60_000 : g.seconds === 'whole' ? 1000 : 10 ** (3 - g.digits);
    const instant = Math.floor(g.ms / unit) * unit;
    const wall = new Date(instant + offset * 60_000);
    const fraction = g.seconds === 'fraction' ? `.${pad(wall.getUTCMilliseconds(), 3).slice(0, g.digits)}` : '';
    const time = `${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}${g.seconds === 'none' ? '' : `:${pad(wall.getUTCSeconds())}${fraction}`}`;
    const sign = offset < 0 ? '-' : '+';
    const hhmm = [pad(Math.floor(Math.abs(offset) / 60)), pad(Math.abs(offset) % 60)];
    const zone = g.zone === 'Z' ? 'Z' : g.zone === 'none' ? '' : g.zone === 'colon' ? `${sign}${hhmm.join(':')}` : `${sign}${hhmm.join('')}`;
    const text = `${g.pad}${wall.getUTCFullYear()}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}${g.sep}${time}${zone}${g.pad}`;
    return { text, instant };
  });

describe('fuzz: Campaign dates', () => {
  test('dates in Campaign and ISO forms round-trip: space or T, with or without seconds and fraction, Z, no zone (UTC), +hh:mm or +hhmm', () => {
    check(campaignDate, ({ text, instant }) => {
      assert.equal(parseCampaignDate(text), instant, text);
    });
  });

  test('any text: undefined or a whole number of milliseconds, never NaN, never a throw', () => {
    const tokens = ['2026', '-', '11', '25', ' ', 'T', '10', ':', '00', '.', '123456789', 'Z', '+', '0100', '+01:00', '99', '0000', '13', '32', '24'];
    check(junk([mutated(campaignDate.map((d) => d.text)), tokenText(tokens)]), (text) => {
      const ms = parseCampaignDate(text);
      if (ms !== undefined) assert.ok(Number.isSafeInteger(ms), `${JSON.stringify(text)} gave ${ms}`);
    });
  });
});
