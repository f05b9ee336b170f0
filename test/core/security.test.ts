import {
  hashSecret,
  isAuthorized,
  newDeviceToken,
  newProductKey,
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
    const hashes = { productKeyHash: hashSecret(key), deviceTokenHash: hashSecret(token) };
    expect(isAuthorized('open', undefined, {})).toBe(true);
    expect(isAuthorized('product_key', key, hashes)).toBe(true);
    expect(isAuthorized('product_key', token, hashes)).toBe(false);
    expect(isAuthorized('device_token', token, hashes)).toBe(true);
    expect(isAuthorized('device_token', key, hashes)).toBe(false);
    expect(isAuthorized('device_token', token, { productKeyHash: hashes.productKeyHash })).toBe(false);
  });
});
