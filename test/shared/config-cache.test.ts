/**
 * The per-container config cache is bounded: unknown product ids and aliases are cached (so they
 * cannot hammer the table), but never more than `maxEntries` of them, expired entries go, and a
 * failed load is not kept (the next call retries).
 */
import { DEFAULT_MAX_ENTRIES, MAX_CACHED_KEY_LENGTH, ProductConfigCache, TtlCache } from '../../lambdas/shared/config-cache';
import type { CatalogStore } from '../../lambdas/shared/store/catalog-store';

describe('TtlCache', () => {
  it('expect 100,000 unique unknown ids to leave the cache at its bound', async () => {
    const cache = new TtlCache<undefined>(5000, { maxEntries: 1000 });
    for (let i = 0; i < 100_000; i++) await cache.get(`unknown-${i}`, async () => undefined);
    expect(cache.size).toBe(1000);
  });

  it('expect the default bound to hold for the product cache of a handler', async () => {
    const catalog = { getProduct: async () => undefined, resolveAlias: async () => undefined } as unknown as CatalogStore;
    const config = new ProductConfigCache(catalog, undefined, 5000);
    for (let i = 0; i < 100_000; i++) await config.productByAlias(`cheeko#app-${i}`);
    const sizes = config as unknown as { aliases: TtlCache<unknown>; products: TtlCache<unknown> };
    expect(sizes.aliases.size).toBe(DEFAULT_MAX_ENTRIES);
  });

  it('expect the least recently used entry to be evicted first', async () => {
    const cache = new TtlCache<string>(60_000, { maxEntries: 2 });
    const loads: string[] = [];
    const load = (k: string) => async () => (loads.push(k), k);
    await cache.get('a', load('a'));
    await cache.get('b', load('b'));
    await cache.get('a', load('a')); // a is now the most recent
    await cache.get('c', load('c')); // evicts b
    await cache.get('a', load('a'));
    await cache.get('b', load('b'));
    expect(loads).toEqual(['a', 'b', 'c', 'b']);
  });

  it('expect expired entries to be reloaded and swept when the cache is full', async () => {
    let now = 0;
    const cache = new TtlCache<number>(1000, { maxEntries: 10, now: () => now });
    for (let i = 0; i < 10; i++) await cache.get(`k${i}`, async () => i);
    now = 1000; // all expired
    await cache.get('fresh', async () => 1);
    expect(cache.size).toBe(1);
    let loads = 0;
    await cache.get('fresh', async () => ++loads);
    expect(loads).toBe(0);
    now = 2500;
    await cache.get('fresh', async () => ++loads);
    expect(loads).toBe(1);
  });

  it('expect a failed load not to be cached, so the next call recovers', async () => {
    const cache = new TtlCache<string>(60_000);
    await expect(cache.get('p', async () => Promise.reject(new Error('timeout')))).rejects.toThrow('timeout');
    await expect(cache.get('p', async () => 'ok')).resolves.toBe('ok');
    await expect(cache.get('p', async () => 'again')).resolves.toBe('ok');
  });

  it('expect over-long keys never to be held', async () => {
    const cache = new TtlCache<string>(60_000);
    const key = 'x'.repeat(MAX_CACHED_KEY_LENGTH + 1);
    let loads = 0;
    await cache.get(key, async () => String(++loads));
    await cache.get(key, async () => String(++loads));
    expect(loads).toBe(2);
    expect(cache.size).toBe(0);
  });
});
