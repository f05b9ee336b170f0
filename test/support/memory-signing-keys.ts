/** An in-memory SigningKeyStorePort with the DynamoDB store's rules (at most `maxActive` active, revoked keys kept), for service unit tests. */
import type { SigningKey } from '../../lambdas/core/model';
import type { SigningKeyStorePort } from '../../lambdas/shared/store/ports';
import type { AddKeyOutcome } from '../../lambdas/shared/store/signing-key-store';

export class MemorySigningKeyStore implements SigningKeyStorePort {
  private readonly keys = new Map<string, SigningKey>();
  private readonly id = (productId: string, keyId: string) => `${productId}#${keyId}`;

  async get(productId: string, keyId: string): Promise<SigningKey | undefined> {
    const k = this.keys.get(this.id(productId, keyId));
    return k && { ...k };
  }

  async list(productId: string): Promise<SigningKey[]> {
    return [...this.keys.values()].filter((k) => k.productId === productId).sort((a, b) => (a.keyId < b.keyId ? -1 : 1));
  }

  async add(key: SigningKey, maxActive: number): Promise<AddKeyOutcome> {
    const existing = this.keys.get(this.id(key.productId, key.keyId));
    if (existing) return { outcome: 'exists', key: { ...existing } };
    if ((await this.list(key.productId)).filter((k) => k.state === 'active').length >= maxActive) return { outcome: 'full' };
    this.keys.set(this.id(key.productId, key.keyId), { ...key });
    return { outcome: 'added', key: { ...key } };
  }

  async revoke(productId: string, keyId: string, now: string): Promise<SigningKey | undefined> {
    const k = this.keys.get(this.id(productId, keyId));
    if (!k || k.state !== 'active') return undefined;
    const revoked: SigningKey = { ...k, state: 'revoked', revokedAt: now };
    this.keys.set(this.id(productId, keyId), revoked);
    return { ...revoked };
  }
}
