import { describe, expect, test } from '@jest/globals';
import { numberAttribute, portAttribute } from '../../../src/discovery/attributes.js';

describe('module attributes as numbers', () => {
  test('absent: Campaign default; present: the value', () => {
    expect(portAttribute({}, 'web', 'httpPort', 8080)).toBe(8080);
    expect(portAttribute({ httpPort: ' 8081 ' }, 'web', 'httpPort', 8080)).toBe(8081);
  });

  test('a placeholder is never read as a port, nor replaced by the default', () => {
    expect(() => portAttribute({ httpPort: '$(HTTP_PORT)' }, 'web', 'httpPort', 8080)).toThrow(
      '<web httpPort="$(HTTP_PORT)"> holds a placeholder the agent cannot resolve; expected a number from 1 to 65535',
    );
  });

  test.each(['80a', '0', '65536', '12.5', '-1'])('%j is refused with what was expected', (text) => {
    expect(() => portAttribute({ port: text }, 'stat', 'port', 7777)).toThrow(`<stat port="${text}">: expected a whole number from 1 to 65535`);
  });

  test('bounds are the caller\'s', () => {
    expect(numberAttribute({ popMailPeriodSec: '60' }, { module: 'inMail', name: 'popMailPeriodSec', fallback: 300, min: 1, max: 86400 })).toBe(60);
  });
});
