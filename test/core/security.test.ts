import {
  hashSecret,
  authorizeDevice,
  newDeviceToken,
  newProductKey,
  presentedSecret,
  secretMatches,
  splitIdAndToken,
  TOKEN_LENGTH,
  TOKEN_PATTERN,
} from '../../lambdas/core/security';

describe('device security', () => {
  it('issues fixed-length alphanumeric device tokens that differ each time', () => {
    const a = newDeviceToken();
    expect(a).toHaveLength(TOKEN_LENGTH);
    expect(a).toMatch(TOKEN_PATTERN);
    expect(newDeviceToken()).not.toBe(a);
    expect(newProductKey()).toMatch(/^pk_[A-Za-z0-9]{32}$/);
  });

  it('matches a secret only against its own hash', () => {
    const token = newDeviceToken();
    expect(secretMatches(token, hashSecret(token))).toBe(true);
    expect(secretMatches(token.slice(1) + 'x', hashSecret(token))).toBe(false);
    expect(secretMatches(undefined, hashSecret(token))).toBe(false);
    expect(secretMatches(token, undefined)).toBe(false);
    expect(secretMatches(token, 'not-hex')).toBe(false);
  });

  it('splits <deviceId><token> by the fixed token length', () => {
    const token = newDeviceToken();
    expect(splitIdAndToken(`5e1b57808711f904f5df4bad${token}`)).toEqual({ deviceId: '5e1b57808711f904f5df4bad', token });
    expect(splitIdAndToken(token)).toBeUndefined();
    expect(splitIdAndToken(`dev${'!'.repeat(TOKEN_LENGTH)}`)).toBeUndefined();
  });

  it('authorises per mode', () => {
    const key = newProductKey();
    const token = newDeviceToken();
    const product = (securityMode: 'open' | 'product_key' | 'device_token') => ({ securityMode, productKeyHash: hashSecret(key) });
    const device = { tokenHash: hashSecret(token) };
    expect(authorizeDevice(product('open'), undefined, undefined)).toBe(true);
    expect(authorizeDevice(product('product_key'), undefined, key)).toBe(true);
    expect(authorizeDevice(product('product_key'), device, token)).toBe(false);
    expect(authorizeDevice(product('product_key'), undefined, undefined)).toBe(false);
    expect(authorizeDevice(product('device_token'), device, token)).toBe(true);
    expect(authorizeDevice(product('device_token'), device, key)).toBe(false);
    expect(authorizeDevice(product('device_token'), undefined, token)).toBe(false);
    expect(authorizeDevice(product('device_token'), {}, token)).toBe(false);
  });

  it('accepts the previous product key until it is retired', () => {
    const [oldKey, newKey] = [newProductKey(), newProductKey()];
    const rotated = { securityMode: 'product_key' as const, productKeyHash: hashSecret(newKey), previousProductKeyHash: hashSecret(oldKey) };
    expect(authorizeDevice(rotated, undefined, newKey)).toBe(true);
    expect(authorizeDevice(rotated, undefined, oldKey)).toBe(true);
    expect(authorizeDevice({ ...rotated, previousProductKeyHash: undefined }, undefined, oldKey)).toBe(false);
  });

  it('reads the secret from Bearer, Basic (password), X-OTA-Key/X-OTA-Token, else the fallback', () => {
    expect(presentedSecret({ authorization: 'Bearer abc' })).toBe('abc');
    expect(presentedSecret({ authorization: `Basic ${Buffer.from('dev:pk_x:y').toString('base64')}` })).toBe('pk_x:y'); // RFC 7617: the user id has no colon
    expect(presentedSecret({ 'x-ota-key': 'k' })).toBe('k');
    expect(presentedSecret({ 'x-ota-token': 't' }, 'body')).toBe('t');
    expect(presentedSecret({}, 'body')).toBe('body');
    expect(presentedSecret({})).toBeUndefined();
  });
});
