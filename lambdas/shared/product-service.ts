/**
 * Operator actions on products: create or replace one (with its protocol bindings, each a unique
 * alias item), read it, rotate its key and retire the previous one. Returns domain objects and
 * throws DomainError; the admin handler presents them.
 */
import { protocolAliases } from '../contract/operator-wire';
import { DomainError } from '../core/errors';
import { PRODUCT_ID_PATTERN } from '../core/manifest';
import type { Chip, Product, ProductProtocols, SecurityMode, SigningPolicy } from '../core/model';
import { hashSecret, newProductKey } from '../core/security';
import { invalidateProductConfig } from './config-cache';
import type { Logger } from './logger';
import type { CatalogStorePort } from './store/ports';

/** What an operator sets on a product (a PUT replaces all of it; absent optional fields are removed). */
export interface ProductSettings {
  /** Default: the product id. */
  readonly name?: string;
  readonly chip: Chip;
  readonly firmwareType?: string;
  /** Default true; always false in `device_token` mode. */
  readonly autoRegister?: boolean;
  readonly securityMode: SecurityMode;
  /** Default 900. */
  readonly pollIntervalS?: number;
  readonly deviceQuota?: number;
  readonly deviceSelectsChannel?: boolean;
  /** Largest app image ingest accepts (bytes); default DEFAULT_MAX_IMAGE_SIZE. */
  readonly maxImageSize?: number;
  /** Default `off`. */
  readonly signing?: SigningPolicy;
  readonly platformSigning?: boolean;
  readonly protocols?: ProductProtocols;
}

export interface RotatedKey {
  /** The new key, shown once (only its hash is stored). */
  readonly productKey: string;
  /** Whether the key it replaced is still accepted (until retired). */
  readonly previousKeyAccepted: boolean;
}

export const DEFAULT_POLL_INTERVAL_S = 900;

/** The product, or 404 product_not_found. */
export async function requireProduct(catalog: Pick<CatalogStorePort, 'getProduct'>, productId: string): Promise<Product> {
  const product = await catalog.getProduct(productId);
  if (!product) throw new DomainError('not_found', 'product_not_found', `Product ${productId} does not exist`);
  return product;
}

export interface ProductServiceDeps {
  readonly catalog: CatalogStorePort;
  readonly logger: Pick<Logger, 'info'>;
  readonly now?: () => Date;
}

export class ProductService {
  constructor(private readonly deps: ProductServiceDeps) {}

  /** Creates or replaces a product; 409 protocol_binding_taken (and nothing changed) when another product holds one of its bindings. */
  async put(productId: string, settings: ProductSettings): Promise<{ product: Product; created: boolean }> {
    const { catalog } = this.deps;
    if (!PRODUCT_ID_PATTERN.test(productId)) {
      throw new DomainError('invalid', 'invalid_product_id', 'Product id must match [a-z0-9][a-z0-9_-]{0,31}');
    }
    // Aliases first: a binding another product holds must fail the whole PUT before anything changes.
    const before = await catalog.getProduct(productId);
    await this.syncAliases(before, { productId, protocols: settings.protocols });
    const result = await catalog.putProduct(
      {
        productId,
        name: settings.name ?? productId,
        chip: settings.chip,
        firmwareType: settings.firmwareType,
        // Devices cannot register themselves when each needs an operator-issued token.
        autoRegister: settings.securityMode === 'device_token' ? false : (settings.autoRegister ?? true),
        securityMode: settings.securityMode,
        pollIntervalS: settings.pollIntervalS ?? DEFAULT_POLL_INTERVAL_S,
        deviceQuota: settings.deviceQuota,
        deviceSelectsChannel: settings.deviceSelectsChannel,
        maxImageSize: settings.maxImageSize,
        signing: settings.signing,
        platformSigning: settings.platformSigning || undefined,
        protocols: settings.protocols,
      },
      this.nowIso(),
    );
    invalidateProductConfig(productId);
    return result;
  }

  get(productId: string): Promise<Product> {
    return requireProduct(this.deps.catalog, productId);
  }

  /** A new product key; the old one stays valid until retired, so firmware carrying it can be replaced gradually. */
  async rotateKey(productId: string): Promise<RotatedKey> {
    const { catalog, logger } = this.deps;
    const product = await requireProduct(catalog, productId);
    const productKey = newProductKey();
    await catalog.setProductKeys(productId, hashSecret(productKey), product.productKeyHash);
    invalidateProductConfig(productId);
    logger.info('product key rotated', { productId });
    return { productKey, previousKeyAccepted: Boolean(product.productKeyHash) };
  }

  /** Stops accepting the key before the last rotation. */
  async retirePreviousKey(productId: string): Promise<void> {
    const { catalog } = this.deps;
    const product = await requireProduct(catalog, productId);
    await catalog.setProductKeys(productId, product.productKeyHash, undefined);
    invalidateProductConfig(productId);
  }

  /** Claims the product's protocol aliases and frees the ones it no longer uses; 409 when another product holds one. */
  private async syncAliases(before: Product | undefined, after: Pick<Product, 'productId' | 'protocols'>): Promise<void> {
    const { catalog } = this.deps;
    const held = before ? protocolAliases(before) : [];
    const wanted = protocolAliases(after);
    const claimed: string[] = [];
    for (const alias of wanted) {
      if (!(await catalog.claimAlias(alias, after.productId))) {
        // Nothing changes: give back what this call claimed.
        for (const c of claimed) await catalog.releaseAlias(c, after.productId);
        throw new DomainError('conflict', 'protocol_binding_taken', `Another product already uses ${alias.replace(/#/g, ' ')}`);
      }
      if (!held.includes(alias)) claimed.push(alias);
    }
    for (const alias of held) if (!wanted.includes(alias)) await catalog.releaseAlias(alias, after.productId);
  }

  private nowIso(): string {
    return (this.deps.now?.() ?? new Date()).toISOString();
  }
}
