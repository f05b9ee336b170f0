import { generateKeyPairSync } from 'node:crypto';
import { firmwareObjectKey, MAX_REQUEST_LINE_BYTES, requestLineBytes } from '../../lambdas/core/download-url';
import { createUrlSigner } from '../../lambdas/shared/url-signer';

describe('download URLs fit the ESP-IDF request line', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  it('keeps keys short and immutable per build', () => {
    expect(firmwareObjectKey('ctrl', 7, 'app')).toBe('ctrl/7/app.bin');
    expect(firmwareObjectKey('ctrl', 7, 'ui')).toBe('ctrl/7/ui.bin');
  });

  it('signs a worst-case URL (longest product id, largest build, long CloudFront domain) within 512 bytes', async () => {
    const signer = createUrlSigner({
      cdnBaseUrl: 'https://d1111111111abcd.cloudfront.net',
      keyPairId: 'K2JCJMDEHXQW5FABCDEF',
      ttlSeconds: 7 * 24 * 3600,
      privateKey: async () => pem,
    });
    const url = await signer.sign(firmwareObjectKey('a'.repeat(32), 2_147_483_647, 'app'));
    expect(url).toContain('Signature=');
    expect(requestLineBytes(url)).toBeLessThanOrEqual(MAX_REQUEST_LINE_BYTES);
  });

  it('refuses to hand out a URL that would not fit', async () => {
    const signer = createUrlSigner({ cdnBaseUrl: 'https://cdn.example', keyPairId: 'K1', ttlSeconds: 900, privateKey: async () => pem });
    await expect(signer.sign(`${'x'.repeat(200)}/1/app.bin`)).rejects.toThrow(/512/);
  });
});
