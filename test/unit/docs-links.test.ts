import { describe, expect, test } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// README.md and docs/*.md link to each other and into the repository: every relative link must name a
// file that exists, and every #anchor a heading of its target, as GitHub renders it. A section
// renamed or moved to another page breaks this test, not a reader's click.

/** The repository root: this file is test/unit/docs-links.test.ts. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What the checker may look at: repository-relative, `/`-separated paths. */
interface Repo {
  /** The text of a file, undefined when it is not a file. */
  read(file: string): string | undefined;
  /** A file or a directory. */
  exists(file: string): boolean;
}

const onDisk = (root: string): Repo => ({
  read: (file) => {
    const full = path.join(root, file);
    return existsSync(full) && statSync(full).isFile() ? readFileSync(full, 'utf8') : undefined;
  },
  exists: (file) => existsSync(path.join(root, file)),
});

const inMemory = (files: Record<string, string>): Repo => ({
  read: (file) => files[file],
  exists: (file) => file === '' || file in files || Object.keys(files).some((name) => name.startsWith(`${file}/`)),
});

/** GitHub's heading slug (github-slugger): lowercase, punctuation dropped except - and _, each space a -. */
function slug(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** The text GitHub renders for a heading's inline Markdown, which is what it slugs. */
function headingText(markdown: string): string {
  return markdown
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // inline HTML tags
    .replace(/`+/g, '') // code spans: their content
    .replace(/\*+/g, '') // emphasis
    .replace(/&[a-z]+;|&#\d+;/gi, '') // entities render as punctuation, which the slug drops
    .trim();
}

/** Each line of a Markdown text, with whether it is inside a fenced code block (fences included). */
function lines(markdown: string): { text: string; number: number; code: boolean }[] {
  const out: { text: string; number: number; code: boolean }[] = [];
  let fence: { char: string; length: number } | undefined;
  markdown.split('\n').forEach((text, index) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(text);
    if (!fence && marker) {
      fence = { char: marker[1]![0]!, length: marker[1]!.length };
      out.push({ text, number: index + 1, code: true });
    } else if (fence) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(text);
      if (close && close[1]![0] === fence.char && close[1]!.length >= fence.length) fence = undefined;
      out.push({ text, number: index + 1, code: true });
    } else out.push({ text, number: index + 1, code: false });
  });
  return out;
}

/** The anchors of a Markdown text: its ATX headings' slugs (duplicates get -1, -2...) and HTML ids. */
function anchors(markdown: string): string[] {
  const found: string[] = [];
  const seen = new Map<string, number>();
  for (const line of lines(markdown)) {
    if (line.code) continue;
    for (const [, id] of line.text.matchAll(/<a\s+(?:[^>]*\s)?(?:id|name)="([^"]+)"/g)) found.push(id!);
    const heading = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line.text);
    if (!heading) continue;
    const base = slug(headingText(heading[1] ?? ''));
    let result = base;
    // github-slugger: a taken slug gets the next free -n suffix of its base.
    while (seen.has(result)) {
      const count = seen.get(base)! + 1;
      seen.set(base, count);
      result = `${base}-${count}`;
    }
    seen.set(result, 0);
    found.push(result);
  }
  return found;
}

/** Inline links and images `[text](dest "title")`, and reference definitions `[label]: dest`, outside code. */
function links(markdown: string): { line: number; dest: string }[] {
  const found: { line: number; dest: string }[] = [];
  for (const line of lines(markdown)) {
    if (line.code) continue;
    const text = line.text.replace(/(`+)(?:(?!\1).)+?\1/g, ''); // code spans are not links
    const inline = /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
    for (const [, dest] of text.matchAll(inline)) found.push({ line: line.number, dest: dest!.replace(/^<|>$/g, '') });
    const definition = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/.exec(text);
    if (definition) found.push({ line: line.number, dest: definition[1]!.replace(/^<|>$/g, '') });
  }
  return found;
}

/** Every broken relative link of the given Markdown files, as `file:line: dest: why`; [] when all resolve. */
function brokenLinks(repo: Repo, files: string[]): { problems: string[]; checked: number } {
  const problems: string[] = [];
  let checked = 0;
  const anchorsOf = new Map<string, string[]>();
  const targetAnchors = (file: string) => {
    if (!anchorsOf.has(file)) anchorsOf.set(file, anchors(repo.read(file) ?? ''));
    return anchorsOf.get(file)!;
  };
  for (const file of files) {
    const markdown = repo.read(file);
    if (markdown === undefined) {
      problems.push(`${file}: not a file`);
      continue;
    }
    for (const { line, dest } of links(markdown)) {
      // External: http(s), mailto and any other scheme, and protocol-relative URLs.
      if (/^[a-z][a-z0-9+.-]*:/i.test(dest) || dest.startsWith('//')) continue;
      checked++;
      const where = `${file}:${line}: ${dest}`;
      const hash = dest.indexOf('#');
      const pathPart = hash === -1 ? dest : dest.slice(0, hash);
      const anchor = hash === -1 ? undefined : dest.slice(hash + 1);
      let target: string;
      try {
        const decoded = decodeURI(pathPart);
        target = decoded === '' ? file : path.posix.normalize(decoded.startsWith('/') ? decoded.slice(1) : path.posix.join(path.posix.dirname(file), decoded));
      } catch {
        problems.push(`${where}: malformed path`);
        continue;
      }
      target = target.replace(/\/$/, '');
      if (target === '.') target = '';
      if (target === '..' || target.startsWith('../')) {
        problems.push(`${where}: outside the repository`);
        continue;
      }
      if (!repo.exists(target)) {
        problems.push(`${where}: no such file ${target}`);
        continue;
      }
      if (anchor === undefined) continue;
      let id: string;
      try {
        id = decodeURIComponent(anchor);
      } catch {
        problems.push(`${where}: malformed anchor`);
        continue;
      }
      if (target.endsWith('.md')) {
        if (!targetAnchors(target).includes(id)) problems.push(`${where}: no heading #${id} in ${target}`);
      } else if (!/^L\d+(-L\d+)?$/.test(id)) problems.push(`${where}: #${id} on ${target}, which is not Markdown`);
    }
  }
  return { problems, checked };
}

describe('GitHub heading slugs', () => {
  test('lowercase, punctuation dropped except - and _, spaces to -', () => {
    expect(slug('Automatic remediation (opt-in)')).toBe('automatic-remediation-opt-in');
    expect(slug('Discovery: what should run here')).toBe('discovery-what-should-run-here');
    expect(slug('Nagios, Icinga, Zabbix, cron')).toBe('nagios-icinga-zabbix-cron');
    expect(slug('Reading /status')).toBe('reading-status');
    expect(slug('campaign_module_up & co.')).toBe('campaign_module_up--co');
    expect(slug('Über die Prüfung 2')).toBe('über-die-prüfung-2');
  });

  test('anchors: inline Markdown stripped, duplicates numbered, code blocks and non-headings skipped', () => {
    const markdown = [
      '# The `/status` endpoint',
      '## Setup',
      '## Setup',
      '### Setup-1',
      '## Setup',
      '```sh',
      '# not a heading',
      '```',
      '#hashtag, not a heading',
      '## [Linked](other.md) *heading* ##',
      '<a id="custom-anchor"></a>',
    ].join('\n');
    expect(anchors(markdown)).toEqual(['the-status-endpoint', 'setup', 'setup-1', 'setup-1-1', 'setup-2', 'linked-heading', 'custom-anchor']);
  });
});

describe('the link checker', () => {
  const repo = inMemory({
    'README.md': [
      '# Project',
      '## Quick start',
      'Good: [start](#quick-start), [checks](docs/checks.md), [states](docs/checks.md#states), [dir](docs/), [config](config/agent.yaml#L3).',
      'Skipped: [site](https://example.com/x.md#nope), [mail](mailto:ops@example.com), `[code](missing.md)`.',
      '```md',
      '[in a code block](missing.md)',
      '```',
      'Broken: [gone](docs/gone.md), [anchor](#quick-stat), [other anchor](docs/checks.md#state), [yaml](config/agent.yaml#keys).',
      '[ref]: docs/missing-too.md',
      '![up](../outside.png)',
    ].join('\n'),
    'docs/checks.md': '# What it checks\n\n## States\n\nBack to the [README](../README.md#project); [broken](../README.md#quick).\n',
    'config/agent.yaml': 'listen: 127.0.0.1:10466\n',
  });

  test('reports every broken link with its file and line, and only those', () => {
    const { problems, checked } = brokenLinks(repo, ['README.md', 'docs/checks.md']);
    expect(problems).toEqual([
      'README.md:8: docs/gone.md: no such file docs/gone.md',
      'README.md:8: #quick-stat: no heading #quick-stat in README.md',
      'README.md:8: docs/checks.md#state: no heading #state in docs/checks.md',
      'README.md:8: config/agent.yaml#keys: #keys on config/agent.yaml, which is not Markdown',
      'README.md:9: docs/missing-too.md: no such file docs/missing-too.md',
      'README.md:10: ../outside.png: outside the repository',
      'docs/checks.md:5: ../README.md#quick: no heading #quick in README.md',
    ]);
    expect(checked).toBe(13);
  });
});

describe('README.md and docs/*.md', () => {
  const docs = readdirSync(path.join(ROOT, 'docs'))
    .filter((file) => file.endsWith('.md'))
    .sort()
    .map((file) => `docs/${file}`);

  test('every relative link names an existing file, and every #anchor a heading of its target', () => {
    expect(docs.length).toBeGreaterThan(5);
    const { problems, checked } = brokenLinks(onDisk(ROOT), ['README.md', ...docs]);
    expect(problems).toEqual([]);
    // Guards the scanner itself: the pages do link to each other.
    expect(checked).toBeGreaterThan(docs.length);
  });

  test('the README links every docs page', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const linked = new Set(links(readme).map(({ dest }) => dest.split('#')[0]));
    expect(docs.filter((doc) => !linked.has(doc))).toEqual([]);
  });
});

describe('runbook links of the alert rules', () => {
  // The placeholder base URL operators replace; the page and its anchors are this repository's.
  const BASE = 'https://github.com/example/campaign-health-agent/blob/main/';

  test("every runbook_url of alerts.yml and alerts.test.yml is its alert's heading in docs/alerts.md", () => {
    const headings = anchors(readFileSync(path.join(ROOT, 'docs', 'alerts.md'), 'utf8'));
    const rules = readFileSync(path.join(ROOT, 'config', 'prometheus', 'alerts.yml'), 'utf8');
    const alerts = [...rules.matchAll(/^ *- alert: (\w+)$/gm)].map(([, name]) => name!);
    expect(alerts.length).toBeGreaterThan(5);
    for (const alert of alerts) expect({ alert, heading: headings.includes(alert.toLowerCase()) }).toEqual({ alert, heading: true });
    for (const file of ['config/prometheus/alerts.yml', 'config/prometheus/alerts.test.yml']) {
      const urls = [...readFileSync(path.join(ROOT, file), 'utf8').matchAll(/runbook_url: *'?([^'\s]+)'?$/gm)].map(([, url]) => url!);
      expect(urls.length).toBeGreaterThanOrEqual(alerts.length);
      for (const url of urls) {
        const [page, anchor = ''] = url.split('#');
        expect({ file, url, page, known: alerts.map((name) => name.toLowerCase()).includes(anchor) }).toEqual({ file, url, page: `${BASE}docs/alerts.md`, known: true });
      }
    }
  });
});
