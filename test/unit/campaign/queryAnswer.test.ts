import { describe, expect, test } from '@jest/globals';
import { readQueryAnswer } from '../../../src/clients/soapSession.js';
import { parseSoapEnvelope } from '../../../src/clients/soapEnvelope.js';
import type { XmlNode } from '../../../src/clients/xml.js';

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';

/** The Body of an ExecuteQuery answer whose pdomOutput holds `output`. */
function body(output: string): XmlNode {
  const parsed = parseSoapEnvelope(
    `<SOAP-ENV:Envelope xmlns:SOAP-ENV="${SOAP11}"><SOAP-ENV:Body><ns:ExecuteQueryResponse xmlns:ns="urn:xtk:queryDef">` +
      `<ns:pdomOutput xsi:type="ns:Element" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">${output}</ns:pdomOutput>` +
      '</ns:ExecuteQueryResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>',
  );
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.body as XmlNode;
}

describe('readQueryAnswer', () => {
  test('a collection gives one row per element, namespace declarations left out', () => {
    expect(readQueryAnswer(body('<workflow-collection xmlns="urn:xtk:queryDef"><workflow internalName="a" state="13"/><workflow internalName="b"/></workflow-collection>'))).toEqual({
      rows: [{ internalName: 'a', state: '13' }, { internalName: 'b' }],
    });
  });

  test('a count answer gives the count', () => {
    expect(readQueryAnswer(body('<workflow count="3"/>'))).toEqual({ rows: [{ count: '3' }], count: 3 });
  });

  test('a count past 2^53 - 1 is no count: it would come out rounded, or as Infinity (fuzz counterexample)', () => {
    // Found by test/fuzz/soap.test.ts: count="90000000000000000" gave 90000000000000000 (not exact).
    expect(readQueryAnswer(body('<workflow count="90000000000000000"/>'))).toEqual({ rows: [{ count: '90000000000000000' }] });
    expect(readQueryAnswer(body(`<workflow count="${'9'.repeat(400)}"/>`))).not.toHaveProperty('count');
    expect(readQueryAnswer(body('<workflow count="9007199254740991"/>'))).toHaveProperty('count', 9007199254740991);
  });

  test('an answer without ExecuteQueryResponse or pdomOutput says which is missing', () => {
    const parsed = parseSoapEnvelope(`<s:Envelope xmlns:s="${SOAP11}"><s:Body><x:Other xmlns:x="urn:x"/></s:Body></s:Envelope>`);
    expect(parsed.ok && readQueryAnswer(parsed.body as XmlNode)).toEqual({ missing: 'ExecuteQueryResponse' });
    const empty = parseSoapEnvelope(`<s:Envelope xmlns:s="${SOAP11}"><s:Body><ns:ExecuteQueryResponse xmlns:ns="urn:xtk:queryDef"/></s:Body></s:Envelope>`);
    expect(empty.ok && readQueryAnswer(empty.body as XmlNode)).toEqual({ missing: 'pdomOutput' });
  });
});
