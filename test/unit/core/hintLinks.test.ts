import { describe, expect, test } from '@jest/globals';
import { plugins } from '../../../probes/index.js';
import { HINT_LINK_TARGETS, resolveHintLinks, resolveHintTarget } from '../../../src/core/hintLinks.js';

const MARKDOWN_LINK = /\[([^\]\n]*)\]\(([^)\s]*)\)/g;
const relativeLinks = (text: string): Array<{ text: string; target: string }> =>
  [...text.matchAll(MARKDOWN_LINK)].map(([, linkText, target]) => ({ text: linkText!, target: target! })).filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l.target));

describe('hint links', () => {
  test('every URL shipped is absolute https on experienceleague.adobe.com, without a query or an anchor of its own', () => {
    const urls = Object.values(HINT_LINK_TARGETS);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) {
      const parsed = new URL(url);
      expect(parsed.protocol).toBe('https:');
      expect(parsed.hostname).toBe('experienceleague.adobe.com');
      expect(parsed.search).toBe('');
      expect(parsed.hash).toBe('');
      expect(parsed.pathname).toMatch(/^\/en\/docs\/campaign-classic\/using\//);
    }
  });

  test('the table has relative links, and every one of them resolves to a URL or to plain text', () => {
    const links = plugins.flatMap((plugin) => relativeLinks(plugin.hint).map((link) => ({ module: plugin.module, ...link })));
    // syslogd, trackinglogd and wfserver link to Adobe's pages; a change in the table shows here.
    expect(links.map((l) => l.module).sort()).toEqual(['syslogd', 'trackinglogd', 'wfserver']);
    for (const plugin of plugins) {
      const resolved = resolveHintLinks(plugin.hint);
      expect(relativeLinks(resolved)).toEqual([]);
      for (const link of relativeLinks(plugin.hint)) {
        const url = resolveHintTarget(link.target);
        if (url === undefined) {
          expect(resolved).toContain(link.text);
          expect(resolved).not.toContain(link.target);
        } else {
          expect(resolved).toContain(`[${link.text}](${url})`);
        }
      }
    }
  });

  test('the table links as of today all have a confirmed page', () => {
    const byModule = Object.fromEntries(plugins.map((plugin) => [plugin.module, resolveHintLinks(plugin.hint)]));
    expect(byModule.syslogd).toBe(
      'If some logs are missing in the log files, check to make sure that the module is using port 6666. Refer to ' +
        '[List of open ports](https://experienceleague.adobe.com/en/docs/campaign-classic/using/monitoring-campaign-classic/introduction/general-architecture#list-of-open-ports).',
    );
    expect(byModule.trackinglogd).toContain(
      'Refer to [Tracking logs issues](https://experienceleague.adobe.com/en/docs/campaign-classic/using/monitoring-campaign-classic/troubleshooting-toc/working-with-log-toc/tracking-logs-issues).',
    );
    expect(byModule.wfserver).toContain(
      'detailed in the [Log precision](https://experienceleague.adobe.com/en/docs/campaign-classic/using/monitoring-campaign-classic/troubleshooting-toc/working-with-log-toc/log-precision) section.',
    );
  });

  test('hints without links, bold text included, are unchanged', () => {
    for (const plugin of plugins) if (relativeLinks(plugin.hint).length === 0) expect(resolveHintLinks(plugin.hint)).toBe(plugin.hint);
    expect(resolveHintLinks("trigger an **xtk:session** type error")).toBe("trigger an **xtk:session** type error");
  });

  test('an unknown relative target keeps its text and drops the dead link; absolute links stay', () => {
    expect(resolveHintLinks('See [Backup](../../production/using/backup.md#restore) now.')).toBe('See Backup now.');
    expect(resolveHintLinks('See [x](https://example.com/a).')).toBe('See [x](https://example.com/a).');
    expect(resolveHintTarget('../../production/using/log-precision.md#anchor')).toBe(`${HINT_LINK_TARGETS['../../production/using/log-precision.md']}#anchor`);
    expect(resolveHintTarget('constructor')).toBeUndefined();
    expect(resolveHintTarget('__proto__')).toBeUndefined();
  });
});
