/**
 * Per-container cache of product config and deployments. A steady-state device check must cost
 * one DynamoDB read (the device item), so product and deployment config are trusted for a few
 * seconds. Offers re-check the deployment's state with a conditional write, so a pause is
 * honoured at once regardless of this cache.
 */
import type { Deployment, Firmware, Product } from '../core/model';
import type { CatalogStore } from './store/catalog-store';
import type { DeploymentStore } from './store/deployment-store';

/** Entries one cache holds at most: unknown ids are cached too, so the key space is unbounded without it. */
export const DEFAULT_MAX_ENTRIES = 5000;
/**
 * Keys longer than this are never cached (loaded every time): with `maxEntries` it bounds the
 * bytes a cache holds (5,000 × 512 characters ≈ 5 MB of keys at most, values are small items).
 */
export const MAX_CACHED_KEY_LENGTH = 512;

export interface TtlCacheOptions {
  /** @default DEFAULT_MAX_ENTRIES */
  readonly maxEntries?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * A bounded TTL cache of promises, least recently used evicted first. Expired entries are
 * dropped when read and swept whenever the cache is full, so a burst of unique unknown ids
 * leaves at most `maxEntries` behind.
 */
export class TtlCache<V> {
  /** Insertion order = recency order (a hit is re-inserted at the end). */
  private readonly entries = new Map<string, { value: Promise<V>; expires: number }>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private lastSweep = Number.NEGATIVE_INFINITY;
  constructor(
    private readonly ttlMs: number,
    opts: TtlCacheOptions | (() => number) = {},
  ) {
    const o = typeof opts === 'function' ? { now: opts } : opts;
    this.maxEntries = Math.max(1, o.maxEntries ?? DEFAULT_MAX_ENTRIES);
    this.now = o.now ?? Date.now;
  }

  /** Number of entries held (expired ones included until swept). */
  get size(): number {
    return this.entries.size;
  }

  /** Cached value, or `load()` (shared by concurrent callers); a failed load is not cached. */
  get(key: string, load: () => Promise<V>): Promise<V> {
    if (key.length > MAX_CACHED_KEY_LENGTH) return load();
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      if (hit.expires > now) {
        this.entries.set(key, hit);
        return hit.value;
      }
    }
    if (this.entries.size >= this.maxEntries) this.evict(now);
    const value = load();
    const entry = { value, expires: now + this.ttlMs };
    this.entries.set(key, entry);
    // Only this load's entry: a newer one for the same key must survive an older failure.
    value.catch(() => this.entries.get(key) === entry && this.entries.delete(key));
    return value;
  }

  invalidate(key?: string): void {
    if (key === undefined) this.entries.clear();
    else this.entries.delete(key);
  }

  /**
   * Makes room for one entry: a full sweep of expired entries at most once per TTL (O(n), so not
   * on every insert), then the least recently used ones from the front.
   */
  private evict(now: number): void {
    if (now - this.lastSweep >= this.ttlMs) {
      this.lastSweep = now;
      for (const [k, e] of this.entries) if (e.expires <= now) this.entries.delete(k);
    }
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }
}

const live = new Set<ProductConfigCache>();

/** Drops cached config of a product in every cache of this process (operator changes, auto-pause). */
export function invalidateProductConfig(productId?: string): void {
  for (const c of live) c.invalidate(productId);
}

export class ProductConfigCache {
  private readonly products: TtlCache<Product | undefined>;
  private readonly deployments: TtlCache<Deployment[]>;
  private readonly aliases: TtlCache<string | undefined>;
  private readonly released: TtlCache<Firmware[]>;
  private readonly byVersion: TtlCache<Firmware | undefined>;

  constructor(
    private readonly catalog: CatalogStore,
    /** Absent for functions that read no deployments (activation): `allDeployments` then throws. */
    private readonly deploymentStore: DeploymentStore | undefined,
    ttlMs: number,
    now: () => number = Date.now,
    /** Per cache (products, deployments, aliases, released, versions). */
    maxEntries = DEFAULT_MAX_ENTRIES,
  ) {
    this.products = new TtlCache(ttlMs, { now, maxEntries });
    this.deployments = new TtlCache(ttlMs, { now, maxEntries });
    this.aliases = new TtlCache(ttlMs, { now, maxEntries });
    this.released = new TtlCache(ttlMs, { now, maxEntries });
    this.byVersion = new TtlCache(ttlMs, { now, maxEntries });
    live.add(this);
  }

  /** Product config (undefined for an unknown product — cached too, so unknown ids cannot hammer the table). */
  product(productId: string): Promise<Product | undefined> {
    return this.products.get(productId, () => this.catalog.getProduct(productId));
  }

  /** Every deployment of a product, any state. */
  allDeployments(productId: string): Promise<Deployment[]> {
    const store = this.deploymentStore;
    if (!store) return Promise.reject(new Error('This function has no deployments table'));
    return this.deployments.get(productId, () => store.list(productId));
  }

  /** Product bound to a protocol alias (`firefly#<class>#<hex>`, `cheeko#<app>`…); unknown ones are cached too. */
  productByAlias(alias: string): Promise<Product | undefined> {
    return this.aliases.get(alias, () => this.catalog.resolveAlias(alias)).then((id) => (id ? this.product(id) : undefined));
  }

  /** RELEASED builds of a product, oldest first (FireFly, Cheeko status, Bota release lookups). */
  releasedFirmware(productId: string): Promise<Firmware[]> {
    return this.released.get(productId, () => this.catalog.listFirmwareInStates(productId, ['RELEASED']));
  }

  /** The build of a version, any state (FireFly's "is the current version revoked?"). */
  firmwareByVersion(productId: string, version: string): Promise<Firmware | undefined> {
    return this.byVersion.get(`${productId}\n${version}`, () => this.catalog.getFirmwareByVersion(productId, version));
  }

  invalidate(productId?: string): void {
    this.products.invalidate(productId);
    this.deployments.invalidate(productId);
    this.released.invalidate(productId);
    // Aliases and version lookups are keyed differently: drop them all (operator changes are rare).
    this.aliases.invalidate();
    this.byVersion.invalidate();
  }
}
