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

  it('expires on a whole-minute grid between TTL and TTL + 60 s, so one signature serves a minute of offers', async () => {
    let signs = 0;
    const signer = createUrlSigner({ cdnBaseUrl: 'https://cdn.example', keyPairId: 'K1', ttlSeconds: 900, privateKey: async () => (signs++, pem) });
    const t0 = Date.UTC(2026, 10, 26, 6, 0, 10);
    const a = await signer.sign('p/1/app.bin', t0);
    const b = await signer.sign('p/1/app.bin', t0 + 30_000);
    expect(b).toBe(a);
    expect(signs).toBe(1);
    const expires = Number(/Expires=(\d+)/.exec(a)![1]);
    expect(expires % 60).toBe(0);
    expect(expires * 1000 - t0).toBeGreaterThanOrEqual(900_000);
    expect(expires * 1000 - t0).toBeLessThanOrEqual(960_000);
    const c = await signer.sign('p/1/app.bin', t0 + 60_000);
    expect(c).not.toBe(a);
    expect(await signer.sign('p/2/app.bin', t0)).not.toBe(a);
  });

  it('refuses to hand out a URL that would not fit', async () => {
    const signer = createUrlSigner({ cdnBaseUrl: 'https://cdn.example', keyPairId: 'K1', ttlSeconds: 900, privateKey: async () => pem });
    await expect(signer.sign(`${'x'.repeat(200)}/1/app.bin`)).rejects.toThrow(/512/);
  });
});
