import { describe, expect, test } from '@jest/globals';
import { parseConfXml } from '../../../src/discovery/serverConfXml.js';
import { CONFIG_DEFAULT, configInstance } from '../../fixtures/campaign-conf.js';


const CONFIG_PROD = configInstance(
  `<mta autoStart="true" statServerAddress="localhost"/>
  <wfserver autoStart="true"/>
  <inMail autoStart="true"/>
  <stat autoStart="true"/>`,
  'SECRET-DB-PW',
);

describe('parseConfXml', () => {
  test('config-default.xml: module nodes and their attributes, nothing from <shared>', () => {
    expect(parseConfXml(CONFIG_DEFAULT, '/x/conf/config-default.xml')).toEqual({
      modules: { web: { args: '-tomcat', autoStart: 'true' }, trackinglogd: { autoStart: 'true' } },
      warnings: [],
    });
  });

  test('config-prod.xml: four modules, the dbcnx password is nowhere in the result', () => {
    const conf = parseConfXml(CONFIG_PROD, '/x/conf/config-prod.xml');
    expect(conf.modules).toEqual({
      mta: { autoStart: 'true', statServerAddress: 'localhost' },
      wfserver: { autoStart: 'true' },
      inMail: { autoStart: 'true' },
      stat: { autoStart: 'true' },
    });
    const json = JSON.stringify(conf);
    expect(json).not.toContain('SECRET');
    expect(json).not.toContain('dbcnx');
    expect(json).not.toContain('neolane:prod');
  });

  test('serverConf.xml: only the module node own attributes, children ignored', () => {
    const xml = `<serverconf>
      <shared><authentication defaultMode="nl"/></shared>
      <web controlPort="8005" httpPort="8080" MaxThreads="75">
        <redirection startRedirection="true" trackingPassword="SECRET-TRK"/>
        <relay><url targetUrl="http://localhost:8080" urlPath="*.jsp"/></relay>
      </web>
      <syslogd maxFileSizeMb="10" maxNumberOfLoginsFiles="365"/>
      <stat port="7777"/>
      <mta maxMemoryMb="1024"><child maxWorkingSetMb="128"><smtp enableTLS="false"/></child></mta>
    </serverconf>`;
    const conf = parseConfXml(xml, 'serverConf.xml');
    expect(conf.modules).toEqual({
      web: { controlPort: '8005', httpPort: '8080', MaxThreads: '75' },
      syslogd: { maxFileSizeMb: '10', maxNumberOfLoginsFiles: '365' },
      stat: { port: '7777' },
      mta: { maxMemoryMb: '1024' },
    });
    expect(JSON.stringify(conf)).not.toContain('SECRET');
  });

  test('XML entities and character references are decoded exactly once', () => {
    const xml = `<serverconf><web args="-a &amp; &lt;b&gt; &quot;c&quot; &apos;d&apos; &#65;&#x42; &amp;#65; &amp;amp;" JVMOptions="-Xmx1g&#10;-Dx=y"/></serverconf>`;
    expect(parseConfXml(xml, 'f.xml').modules.web).toEqual({
      args: `-a & <b> "c" 'd' AB &#65; &amp;`,
      JVMOptions: '-Xmx1g\n-Dx=y',
    });
  });

  test('entities declared in a DOCTYPE are not expanded', () => {
    const xml = `<!DOCTYPE serverconf [<!ENTITY big "EXPANDED">]><serverconf><web args="&big;"/></serverconf>`;
    expect(parseConfXml(xml, 'f.xml').modules.web).toEqual({ args: '&big;' });
  });

  test('password-like attributes are dropped from module nodes', () => {
    const xml = `<serverconf><web httpPort="8080" password="P1" internalPassword="P2" trackingPassword="P3" proxyPasswd="P4" clientSecret="P5"/><xtk internalPassword="P6"/></serverconf>`;
    const conf = parseConfXml(xml, 'f.xml');
    expect(conf.modules).toEqual({ web: { httpPort: '8080' }, xtk: {} });
    expect(JSON.stringify(conf)).not.toMatch(/P[1-6]/);
  });

  test('a module node that is not a direct child: the shallowest occurrence is taken', () => {
    const xml = `<serverconf>
      <group><x><stat port="9"/></x></group>
      <wrapper><stat port="1234"/></wrapper>
      <a><web httpPort="1"/></a>
      <web httpPort="2"/>
    </serverconf>`;
    expect(parseConfXml(xml, 'f.xml').modules).toEqual({
      group: {},
      wrapper: {},
      a: {},
      web: { httpPort: '2' },
      stat: { port: '1234' },
    });
  });

  test('nothing is ever taken from inside <dbcnx>', () => {
    const xml = `<serverconf><shared><dataStore><dbcnx password="S"><web httpPort="666" password="S2"/></dbcnx></dataStore></shared><dbcnx password="S3"/></serverconf>`;
    const conf = parseConfXml(xml, 'f.xml');
    expect(conf.modules).toEqual({});
  });

  test('module names are case-sensitive as Campaign writes them', () => {
    const conf = parseConfXml(`<serverconf><inMail autoStart="true"/><inmail autoStart="false"/></serverconf>`, 'f.xml');
    expect(conf.modules.inMail).toEqual({ autoStart: 'true' });
    expect(conf.modules.inmail).toEqual({ autoStart: 'false' });
  });

  test('comments, CDATA, BOM and processing instructions are not module nodes', () => {
    const xml = `\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<!-- <mta autoStart="true"/> -->\n<serverconf><?pi x?><!-- <wfserver autoStart="true"/> --><![CDATA[<sms autoStart="true"/>]]><web autoStart="true"/></serverconf>`;
    expect(parseConfXml(xml, 'f.xml').modules).toEqual({ web: { autoStart: 'true' } });
  });

  test('a duplicate module node: first one kept, warning names the file', () => {
    const conf = parseConfXml(`<serverconf><web httpPort="1"/><web httpPort="2"/></serverconf>`, '/x/conf/serverConf.xml');
    expect(conf.modules).toEqual({ web: { httpPort: '1' } });
    expect(conf.warnings).toEqual(['/x/conf/serverConf.xml: <web> appears more than once under <serverconf>; the first one is used']);
  });

  test('names that could pollute prototypes stay plain keys', () => {
    const xml = `<serverconf><constructor a="1"/><web constructor="c" hasOwnProperty="h" toString="t" __proto__="p"/></serverconf>`;
    const conf = parseConfXml(xml, 'f.xml');
    expect(Object.keys(conf.modules)).toEqual(['constructor', 'web']);
    expect(conf.modules.web).toEqual(
      Object.fromEntries([['constructor', 'c'], ['hasOwnProperty', 'h'], ['toString', 't'], ['__proto__', 'p']]),
    );
    expect(Object.hasOwn(conf.modules.web as object, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(conf.modules.web)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).p).toBeUndefined();
  });

  test('malformed XML: the error names the file, line, column and problem', () => {
    const xml = `<serverconf>\n  <web autoStart="true">\n</serverconf>\n`;
    expect(() => parseConfXml(xml, '/x/conf/config-prod.xml')).toThrow(
      new Error(
        "/x/conf/config-prod.xml: not well-formed XML at line 3, column 1: Expected closing tag 'web' (opened in line 2, col 3) instead of closing tag 'serverconf'.",
      ),
    );
  });

  test('malformed XML: repeated attribute', () => {
    expect(() => parseConfXml(`<serverconf>\n<web a="1" a="2"/></serverconf>`, 'f.xml')).toThrow(
      new Error("f.xml: not well-formed XML at line 2, column 12: Attribute 'a' is repeated."),
    );
  });

  test('an empty file is not well-formed', () => {
    expect(() => parseConfXml('', 'e.xml')).toThrow(new Error('e.xml: not well-formed XML at line 1: Start tag expected.'));
  });

  test('two root elements are rejected', () => {
    expect(() => parseConfXml('<serverconf/><serverconf/>', 'f.xml')).toThrow(
      new Error('f.xml: not well-formed XML: more than one root element (<serverconf>, <serverconf>)'),
    );
  });

  test('a root other than <serverconf> names the file and the root found', () => {
    expect(() => parseConfXml('<config><web autoStart="true"/></config>', '/x/conf/serverConf.xml')).toThrow(
      new Error('/x/conf/serverConf.xml: root element is <config>, expected <serverconf>'),
    );
  });

  test('a stray quote in a password: the error gives the position, never the rest of the password (fuzz counterexample)', () => {
    // Found by test/fuzz/confXml.test.ts: the validator quoted `Zq7-MARK-9xW` back as an attribute name.
    const xml = '<serverconf><web password=""Zq7-MARK-9xW>"/></serverconf>';
    expect(() => parseConfXml(xml, 'f.xml')).toThrow(
      new Error('f.xml: not well-formed XML at line 1, column 29: an attribute does not follow a space (a stray quote in a value?)'),
    );
    expect(() => parseConfXml('<serverconf><web password="a" MARK "b"/></serverconf>', 'f.xml')).toThrow(/an attribute has no value/);
    expect(() => parseConfXml('<serverconf><web password="a" MARK "b"/></serverconf>', 'f.xml')).not.toThrow(/MARK/);
  });
});
