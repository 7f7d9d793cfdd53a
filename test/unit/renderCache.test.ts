import { describe, expect, test } from '@jest/globals';
import { RenderCache } from '../../src/renderCache.js';

describe('render cache', () => {
  test('one rendering per version, shared by concurrent requests', async () => {
    const cache = new RenderCache(60_000);
    let renders = 0;
    const render = () => `body ${++renders}`;
    const [a, b] = await Promise.all([cache.get('metrics', 1, render), cache.get('metrics', 1, render)]);
    expect([a, b, renders]).toEqual(['body 1', 'body 1', 1]);
    expect(await cache.get('metrics', 2, render)).toBe('body 2');
    expect(await cache.get('status', 2, render)).toBe('body 3');
  });

  test('a rendering older than maxAge is redone even without a change', async () => {
    const cache = new RenderCache(20);
    let renders = 0;
    await cache.get('metrics', 1, () => `${++renders}`);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await cache.get('metrics', 1, () => `${++renders}`)).toBe('2');
  });

  test('a failed rendering is not kept', async () => {
    const cache = new RenderCache(60_000);
    await expect(cache.get('metrics', 1, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await cache.get('metrics', 1, () => 'fine')).toBe('fine');
  });
});
