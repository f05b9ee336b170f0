import { generateKeyPairSync } from 'node:crypto';
import { SigningKeyService } from '../../lambdas/shared/signing-key-service';
import { domainRejection } from '../support/domain-error';
import { MemorySigningKeyStore } from '../support/memory-signing-keys';
import { memoryStores } from '../support/memory-stores';
import { deploymentRecord, productInput, recordingLogger, T0, testClock } from '../support/service-fixtures';

const p256 = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

async function setup(opts: { platformKey?: string } = {}) {
  const stores = memoryStores();
  const keys = new MemorySigningKeyStore();
  const clock = testClock();
  await stores.catalog.putProduct(productInput('lamp'), T0);
  const service = new SigningKeyService({
    catalog: stores.catalog,
    keys,
    deployments: stores.deployments,
    ...(opts.platformKey ? { platformSigner: { publicKeyPem: async () => opts.platformKey! } } : {}),
    logger: recordingLogger(),
    now: clock.now,
  });
  return { ...stores, keys, clock, service };
}

describe('SigningKeyService.add', () => {
  it('expect the key registered active with its id and algorithm, and a second add to return it unchanged', async () => {
    const { service } = await setup();
    const pem = p256();
    const first = await service.add('lamp', { publicKeyPem: pem, name: 'ci' });
    expect(first).toMatchObject({ created: true, key: { algorithm: 'ecdsa-p256', state: 'active', origin: 'operator', name: 'ci' } });
    expect(first.key.keyId).toMatch(/^[0-9a-f]{64}$/);
    expect(await service.add('lamp', { publicKeyPem: pem })).toEqual({ created: false, key: first.key });
  });

  it('expect signing_keys_full at the fourth active key, and signing_key_revoked when a revoked key is added again', async () => {
    const { service } = await setup();
    const pems = [p256(), p256(), p256(), p256()];
    const added = [];
    for (const pem of pems.slice(0, 3)) added.push((await service.add('lamp', { publicKeyPem: pem })).key);
    expect((await domainRejection(service.add('lamp', { publicKeyPem: pems[3] }))).code).toBe('signing_keys_full');
    await service.revoke('lamp', added[0].keyId);
    expect((await service.add('lamp', { publicKeyPem: pems[3] })).created).toBe(true);
    expect((await domainRejection(service.add('lamp', { publicKeyPem: pems[0] }))).code).toBe('signing_key_revoked');
  });

  it('expect product_not_found for an unknown product and private_signing_key for a private key, before anything is stored', async () => {
    const { service, keys } = await setup();
    expect((await domainRejection(service.add('nope', { publicKeyPem: p256() }))).code).toBe('product_not_found');
    const priv = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect((await domainRejection(service.add('lamp', { publicKeyPem: priv }))).code).toBe('private_signing_key');
    expect(await keys.list('lamp')).toEqual([]);
  });
});

describe('SigningKeyService.revoke', () => {
  it('expect only active deployments whose every vouching key is revoked to pause', async () => {
    const { service, deployments } = await setup();
    const a = (await service.add('lamp', { publicKeyPem: p256() })).key.keyId;
    const b = (await service.add('lamp', { publicKeyPem: p256() })).key.keyId;
    const dep = (id: string, build: number, signingKeyIds: string[], state: 'active' | 'paused' = 'active') => {
      const d = deploymentRecord('lamp', id, build, state);
      return { ...d, firmware: { ...d.firmware, signingKeyIds } };
    };
    await deployments.create(dep('d-only-a', 1, [a]));
    await deployments.create(dep('d-a-and-b', 2, [a, b]));
    await deployments.create(dep('d-only-b', 3, [b]));
    await deployments.create(dep('d-unsigned', 4, []));
    await deployments.create(dep('d-paused', 5, [a], 'paused'));
    const r = await service.revoke('lamp', a);
    expect(r.key.state).toBe('revoked');
    expect(r.pausedDeployments).toEqual(['d-only-a']);
    expect((await deployments.get('lamp', 'd-only-a'))?.state).toBe('paused');
    expect((await deployments.get('lamp', 'd-a-and-b'))?.state).toBe('active');
    // Idempotent: revoking again pauses nothing more and answers the revoked key.
    expect(await service.revoke('lamp', a)).toMatchObject({ key: { state: 'revoked' }, pausedDeployments: [] });
    expect((await domainRejection(service.revoke('lamp', '0'.repeat(64)))).code).toBe('signing_key_not_found');
  });
});

describe('SigningKeyService.registerPlatformKey', () => {
  it('expect platform_signing_unavailable without a platform signer, and one platform-origin key however often it is registered', async () => {
    const none = await setup();
    expect(() => none.service.assertPlatformSigningAvailable()).toThrow(expect.objectContaining({ code: 'platform_signing_unavailable' }));
    const { service, keys } = await setup({ platformKey: p256() });
    const first = await service.registerPlatformKey('lamp');
    expect(first).toMatchObject({ origin: 'platform', name: 'platform', state: 'active' });
    await service.registerPlatformKey('lamp');
    expect(await keys.list('lamp')).toHaveLength(1);
  });
});
