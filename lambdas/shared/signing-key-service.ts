/**
 * Operator actions on a product's trusted signing keys: list, add (at most three active, as a
 * Secure Boot v2 eFuse holds three digests), revoke (which pauses every active deployment of a
 * build no remaining active key vouches for), and registering the platform's own key when a
 * product turns platform signing on. Returns domain objects and throws DomainError.
 */
import { DomainError } from '../core/errors';
import { MAX_ACTIVE_SIGNING_KEYS, type SigningKey } from '../core/model';
import { parseSigningKey } from '../core/signing';
import { invalidateProductConfig } from './config-cache';
import type { Logger } from './logger';
import type { PlatformSigner } from './platform-signer';
import { requireProduct } from './product-service';
import type { CatalogStorePort, DeploymentStorePort, SigningKeyStorePort } from './store/ports';

export interface SigningKeyServiceDeps {
  readonly catalog: Pick<CatalogStorePort, 'getProduct'>;
  readonly keys: SigningKeyStorePort;
  readonly deployments: Pick<DeploymentStorePort, 'list' | 'transition'>;
  /** The platform's key, when the stack enables platform signing. */
  readonly platformSigner?: Pick<PlatformSigner, 'publicKeyPem'>;
  readonly logger: Pick<Logger, 'info'>;
  readonly now?: () => Date;
}

export class SigningKeyService {
  constructor(private readonly deps: SigningKeyServiceDeps) {}

  async list(productId: string): Promise<SigningKey[]> {
    await requireProduct(this.deps.catalog, productId);
    return this.deps.keys.list(productId);
  }

  /** Trusts a public key; `created: false` when it was already registered (idempotent). */
  async add(
    productId: string,
    input: { publicKeyPem: string; name?: string },
    origin: SigningKey['origin'] = 'operator',
  ): Promise<{ key: SigningKey; created: boolean }> {
    const parsed = parseSigningKey(input.publicKeyPem); // 400 for a private, malformed or unsupported key
    await requireProduct(this.deps.catalog, productId);
    const r = await this.deps.keys.add(
      {
        productId,
        keyId: parsed.keyId,
        algorithm: parsed.algorithm,
        publicKeyPem: parsed.publicKeyPem,
        ...(input.name ? { name: input.name } : {}),
        origin,
        state: 'active',
        addedAt: this.nowIso(),
      },
      MAX_ACTIVE_SIGNING_KEYS,
    );
    if (r.outcome === 'full') {
      throw new DomainError('conflict', 'signing_keys_full', `Product ${productId} already trusts ${MAX_ACTIVE_SIGNING_KEYS} active keys; revoke one first`);
    }
    if (r.outcome === 'exists' && r.key.state === 'revoked') {
      throw new DomainError('conflict', 'signing_key_revoked', `Key ${r.key.keyId} was revoked on ${r.key.revokedAt}; a revoked key is never trusted again`);
    }
    if (r.outcome === 'added') {
      invalidateProductConfig(productId);
      this.deps.logger.info('signing key added', { productId, keyId: r.key.keyId, algorithm: r.key.algorithm, origin });
    }
    return { key: r.key, created: r.outcome === 'added' };
  }

  /** Revokes a key (idempotent) and pauses the active deployments of builds that only revoked keys vouch for. */
  async revoke(productId: string, keyId: string): Promise<{ key: SigningKey; pausedDeployments: string[] }> {
    const { keys, deployments, logger } = this.deps;
    await requireProduct(this.deps.catalog, productId);
    const now = this.nowIso();
    const key = (await keys.revoke(productId, keyId, now)) ?? (await keys.get(productId, keyId));
    if (!key) throw new DomainError('not_found', 'signing_key_not_found', `Product ${productId} has no signing key ${keyId}`);
    const active = new Set((await keys.list(productId)).filter((k) => k.state === 'active').map((k) => k.keyId));
    const pausedDeployments: string[] = [];
    for (const d of await deployments.list(productId)) {
      const vouchers = d.firmware.signingKeyIds ?? [];
      if (d.state !== 'active' || !vouchers.includes(keyId) || vouchers.some((id) => active.has(id))) continue;
      if (await deployments.transition(productId, d.deploymentId, ['active'], 'paused', 'signing_key_revoked', now)) pausedDeployments.push(d.deploymentId);
    }
    invalidateProductConfig(productId);
    logger.info('signing key revoked', { productId, keyId, pausedDeployments });
    return { key, pausedDeployments };
  }

  /** Before a PUT turns platform signing on: 409 when the stack has no platform key. */
  assertPlatformSigningAvailable(): void {
    if (!this.deps.platformSigner) {
      throw new DomainError('conflict', 'platform_signing_unavailable', 'This stack has no platform signing key (deploy it with platformSigning enabled)');
    }
  }

  /** Registers the platform's public key as one of the product's keys (idempotent). */
  async registerPlatformKey(productId: string): Promise<SigningKey> {
    this.assertPlatformSigningAvailable();
    const publicKeyPem = await this.deps.platformSigner!.publicKeyPem();
    return (await this.add(productId, { publicKeyPem, name: 'platform' }, 'platform')).key;
  }

  private nowIso(): string {
    return (this.deps.now?.() ?? new Date()).toISOString();
  }
}
