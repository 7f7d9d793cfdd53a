import { describe, expect, test } from '@jest/globals';
import { gunzipSync } from 'node:zlib';
import { acceptsGzip, RenderCache } from '../../src/http/renderCache.js';

describe('render cache', () => {
  test('one rendering per version, shared by concurrent requests', async () => {
    const cache = new RenderCache(60_000);
    let renders = 0;
    const render = () => `body ${++renders}`;
    const [a, b] = await Promise.all([cache.get('metrics', 1, render), cache.get('metrics', 1, render)]);
    expect(b).toBe(a);
    expect([a.text, renders]).toEqual(['body 1', 1]);
    expect((await cache.get('metrics', 2, render)).text).toBe('body 2');
    expect((await cache.get('status', 2, render)).text).toBe('body 3');
  });

  test('a rendering older than maxAge is redone even without a change', async () => {
    const cache = new RenderCache(20);
    let renders = 0;
    await cache.get('metrics', 1, () => `${++renders}`);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect((await cache.get('metrics', 1, () => `${++renders}`)).text).toBe('2');
  });

  test("an entry's own maxAge overrides the cache's: Infinity keeps it for its version, 0 renders again", async () => {
    const cache = new RenderCache(60_000);
    let renders = 0;
    const render = () => `${++renders}`;
    await cache.get('results', 1, render, Infinity);
    expect((await cache.get('results', 1, render, Infinity)).text).toBe('1');
    expect((await cache.get('results', 1, render, 0)).text).toBe('2');
    expect((await cache.get('results', 2, render, Infinity)).text).toBe('3');
  });

  test('a failed rendering is not kept', async () => {
    const cache = new RenderCache(60_000);
    await expect(cache.get('metrics', 1, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect((await cache.get('metrics', 1, () => 'fine')).text).toBe('fine');
  });

  test('the UTF-8 body and its gzip form are made once per rendering and say the same', async () => {
    const cache = new RenderCache(60_000);
    const rendered = await cache.get('metrics', 1, () => `# HELP é\n${'campaign_module_up{module="web"} 1\n'.repeat(500)}`);
    expect(rendered.body).toBe(rendered.body);
    const gzipped = rendered.gzip();
    expect(rendered.gzip()).toBe(gzipped);
    expect(gzipped.length).toBeLessThan(rendered.body.length / 10);
    expect(gunzipSync(gzipped).toString('utf8')).toBe(rendered.text);
  });

  test.each([
    ['gzip', true],
    ['gzip, deflate, br', true],
    ['deflate, GZIP;q=0.5', true],
    ['identity', false],
    ['gzip;q=0', false],
    ['gzip;q=0.0, *', false],
    ['*', true],
    ['*;q=0', false],
    ['', false],
    [undefined, false],
  ])('Accept-Encoding %j takes gzip: %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});
