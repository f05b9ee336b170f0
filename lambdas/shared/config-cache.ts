/**
 * Per-container cache of product config and deployments. A steady-state device check must cost
 * one DynamoDB read (the device item), so product and deployment config are trusted for a few
 * seconds. Offers re-check the deployment's state with a conditional write, so a pause is
 * honoured at once regardless of this cache.
 */
import type { Deployment, Firmware, Product } from '../core/model';
import type { CatalogStore } from './store/catalog-store';
import type { DeploymentStore } from './store/deployment-store';

export class TtlCache<V> {
  private readonly entries = new Map<string, { value: Promise<V>; expires: number }>();
  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Cached value, or `load()` (shared by concurrent callers); a failed load is not cached. */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > this.now()) return hit.value;
    const value = load();
    this.entries.set(key, { value, expires: this.now() + this.ttlMs });
    value.catch(() => this.entries.delete(key));
    return value;
  }

  invalidate(key?: string): void {
    if (key === undefined) this.entries.clear();
    else this.entries.delete(key);
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
  ) {
    this.products = new TtlCache(ttlMs, now);
    this.deployments = new TtlCache(ttlMs, now);
    this.aliases = new TtlCache(ttlMs, now);
    this.released = new TtlCache(ttlMs, now);
    this.byVersion = new TtlCache(ttlMs, now);
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
