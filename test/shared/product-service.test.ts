import { authorizeDevice, hashSecret } from '../../lambdas/core/security';
import * as configCache from '../../lambdas/shared/config-cache';
import { ProductService, type ProductSettings } from '../../lambdas/shared/product-service';
import { domainRejection } from '../support/domain-error';
import { MemoryCatalogStore } from '../support/memory-stores';
import { productInput, recordingLogger, T0, testClock } from '../support/service-fixtures';

const settings = (extra: Partial<ProductSettings> = {}): ProductSettings => ({ chip: 'esp32', securityMode: 'open', ...extra });

function setup() {
  const catalog = new MemoryCatalogStore();
  const clock = testClock();
  const logger = recordingLogger();
  return { catalog, clock, logger, service: new ProductService({ catalog, logger, now: clock.now }) };
}

afterEach(() => jest.restoreAllMocks());

describe('ProductService.put', () => {
  it('expect a created product with the defaults when the product is new', async () => {
    const { service, catalog } = setup();
    const { product, created } = await service.put('lamp', settings());
    expect(created).toBe(true);
    expect(product).toMatchObject({ productId: 'lamp', name: 'lamp', autoRegister: true, pollIntervalS: 900, createdAt: T0, updatedAt: T0 });
    expect(await catalog.getProduct('lamp')).toEqual(product);
  });

  it('expect created false, createdAt kept and absent settings removed when the product exists', async () => {
    const { service, clock } = setup();
    await service.put('lamp', settings({ deviceQuota: 10, firmwareType: 'Lamp', name: 'Lamp' }));
    clock.advance(60_000);
    const { product, created } = await service.put('lamp', settings({ pollIntervalS: 120 }));
    expect(created).toBe(false);
    expect(product.createdAt).toBe(T0);
    expect(product.updatedAt).toBe(clock.iso());
    expect(product.pollIntervalS).toBe(120);
    expect(product.name).toBe('lamp');
    expect(product).not.toHaveProperty('deviceQuota');
    expect(product).not.toHaveProperty('firmwareType');
  });

  it('expect auto_register forced off when the security mode is device_token', async () => {
    const { service } = setup();
    expect((await service.put('tok', settings({ securityMode: 'device_token', autoRegister: true }))).product.autoRegister).toBe(false);
    expect((await service.put('key', settings({ securityMode: 'product_key', autoRegister: false }))).product.autoRegister).toBe(false);
    expect((await service.put('open', settings({ securityMode: 'open' }))).product.autoRegister).toBe(true);
  });

  it('expect invalid_product_id and nothing stored when the product id is malformed', async () => {
    const { service, catalog } = setup();
    const e = await domainRejection(service.put('Bad Id', settings()));
    expect([e.kind, e.code]).toEqual(['invalid', 'invalid_product_id']);
    expect(await catalog.getProduct('Bad Id')).toBeUndefined();
  });

  it('expect the bindings claimed as aliases, and the ones dropped released, when protocols change', async () => {
    const { service, catalog } = setup();
    await service.put('toy', settings({ protocols: { firefly: { productClass: 'Toy', productHex: 'ab12' }, cheeko: { application: 'toy', default: true } } }));
    expect(await catalog.resolveAlias('firefly#Toy#ab12')).toBe('toy');
    expect(await catalog.resolveAlias('cheeko#toy')).toBe('toy');
    expect(await catalog.resolveAlias('cheeko#*')).toBe('toy');

    await service.put('toy', settings({ protocols: { cheeko: { application: 'toy' }, iotaap: true } }));
    expect(await catalog.resolveAlias('firefly#Toy#ab12')).toBeUndefined();
    expect(await catalog.resolveAlias('cheeko#*')).toBeUndefined();
    expect(await catalog.resolveAlias('cheeko#toy')).toBe('toy');
    expect(await catalog.resolveAlias('iotaap#toy')).toBe('toy');
  });

  it('expect protocol_binding_taken and nothing changed when another product holds a binding', async () => {
    const { service, catalog, clock } = setup();
    await service.put('other', settings({ protocols: { cheeko: { application: 'shared' } } }));
    const before = (await service.put('mine', settings({ name: 'Mine', protocols: { iotaap: true } }))).product;
    clock.advance(1000);

    const e = await domainRejection(
      service.put('mine', settings({ name: 'Renamed', protocols: { firefly: { productClass: 'C', productHex: '01' }, cheeko: { application: 'shared' } } })),
    );
    expect([e.kind, e.code]).toEqual(['conflict', 'protocol_binding_taken']);
    expect(e.message).toBe('Another product already uses cheeko shared');
    expect(await catalog.getProduct('mine')).toEqual(before);
    // Neither the binding claimed before the taken one, nor the loss of the ones it held.
    expect(await catalog.resolveAlias('firefly#C#01')).toBeUndefined();
    expect(await catalog.resolveAlias('iotaap#mine')).toBe('mine');
    expect(await catalog.resolveAlias('cheeko#shared')).toBe('other');
  });

  it('expect the product config invalidated when a product is put', async () => {
    const { service } = setup();
    const invalidate = jest.spyOn(configCache, 'invalidateProductConfig');
    await service.put('lamp', settings());
    expect(invalidate).toHaveBeenCalledWith('lamp');
  });
});

describe('ProductService.get', () => {
  it('expect product_not_found when the product does not exist', async () => {
    const e = await domainRejection(setup().service.get('nope'));
    expect([e.kind, e.code, e.message]).toEqual(['not_found', 'product_not_found', 'Product nope does not exist']);
  });

  it('expect the stored product when it exists', async () => {
    const { service, catalog } = setup();
    await catalog.putProduct(productInput('lamp'), T0);
    expect(await service.get('lamp')).toEqual(await catalog.getProduct('lamp'));
  });
});

describe('ProductService key rotation', () => {
  const accepts = (p: Parameters<typeof authorizeDevice>[0], key: string) => authorizeDevice(p, undefined, key);

  it('expect a new key stored as its hash, and no previous key, when the product had no key', async () => {
    const { service, catalog, logger } = setup();
    await catalog.putProduct({ ...productInput('lamp'), securityMode: 'product_key' }, T0);
    const { productKey, previousKeyAccepted } = await service.rotateKey('lamp');
    expect(previousKeyAccepted).toBe(false);
    const p = (await catalog.getProduct('lamp'))!;
    expect(p.productKeyHash).toBe(hashSecret(productKey));
    expect(p.previousProductKeyHash).toBeUndefined();
    expect(logger.messages()).toContain('product key rotated');
  });

  it('expect the previous key still accepted until it is retired', async () => {
    const { service, catalog } = setup();
    await catalog.putProduct({ ...productInput('lamp'), securityMode: 'product_key' }, T0);
    const first = (await service.rotateKey('lamp')).productKey;
    const second = await service.rotateKey('lamp');
    expect(second.previousKeyAccepted).toBe(true);
    let p = (await catalog.getProduct('lamp'))!;
    expect([accepts(p, first), accepts(p, second.productKey), accepts(p, 'pk_wrong')]).toEqual([true, true, false]);

    await service.retirePreviousKey('lamp');
    p = (await catalog.getProduct('lamp'))!;
    expect([accepts(p, first), accepts(p, second.productKey)]).toEqual([false, true]);
  });

  it('expect product_not_found when rotating or retiring the key of an unknown product', async () => {
    const { service } = setup();
    expect((await domainRejection(service.rotateKey('nope'))).code).toBe('product_not_found');
    expect((await domainRejection(service.retirePreviousKey('nope'))).code).toBe('product_not_found');
  });
});
