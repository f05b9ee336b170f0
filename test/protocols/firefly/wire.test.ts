/**
 * esp32FOTA's rules, read from chrisjoyce911/esp32FOTA:
 * - src/semver/semver.c `semver_parse_version`: up to four '.'-slices, each `strtol(slice, &end, 10)`,
 *   any rest after the digits fails the parse; `SemverClass` (src/esp32FOTA.cpp) then uses 0.0.0.
 * - src/esp32FOTA.cpp `checkJSONManifest`: update only if `semver_compare(payload, own) == 1`;
 *   `url` wins over everything; else `bin`+`host`+`port` (scheme https only for port 443/4433),
 *   and then `littlefs`/`spiffs`/`fatfs` for the filesystem image; else "missing one of the required keys".
 */
import { esp32FotaIsNewer, esp32FotaVersion, fireflyManifest, ESP32FOTA_MANIFEST_MAX_BYTES } from '../../../lambdas/protocols/firefly/wire';

/** What checkJSONManifest takes from a manifest: the URLs it would flash, or the error it logs. */
function stockRead(doc: Record<string, unknown>): { firmwareUrl: string; fsUrl?: string } | 'missing_required_keys' {
  const str = (k: string) => (typeof doc[k] === 'string' ? (doc[k] as string) : undefined);
  const port = typeof doc.port === 'number' && Number.isInteger(doc.port) && doc.port >= 0 && doc.port <= 65535 ? doc.port : undefined;
  const fsPath = str('littlefs') ?? str('spiffs') ?? str('fatfs');
  if (str('url')) return { firmwareUrl: str('url')! };
  if (str('bin') && str('host') && port !== undefined) {
    const base = `${port === 443 || port === 4433 ? 'https' : 'http'}://${str('host')}:${port}`;
    return { firmwareUrl: base + str('bin'), ...(fsPath ? { fsUrl: base + fsPath } : {}) };
  }
  return 'missing_required_keys';
}

describe('esp32FotaVersion', () => {
  it.each([
    ['1.2.3', [1, 2, 3]],
    ['2026.03.001', [2026, 3, 1]],
    ['1.1.0-rc.1', [0, 0, 0]],
    ['v3.0.1', [0, 0, 0]],
    ['2.0.0.1', [2, 0, 0]],
    ['2.0.0.1.x', [2, 0, 0]], // the fifth slice is never read
    ['7', [7, 0, 0]],
    ['1.2', [1, 2, 0]],
    ['1.2.3+build', [0, 0, 0]],
    ['', [0, 0, 0]],
  ])('%s → %j', (s, v) => {
    expect(esp32FotaVersion(s)).toEqual(v);
  });
});

describe('esp32FotaIsNewer', () => {
  it('is strictly greater, part by part as integers', () => {
    expect(esp32FotaIsNewer('1.10.0', '1.9.9')).toBe(true);
    expect(esp32FotaIsNewer('1.2.0', '1.2.0')).toBe(false);
    expect(esp32FotaIsNewer('2.0.0.1', '2.0.0')).toBe(false);
    expect(esp32FotaIsNewer('1.1.0-rc.1', '1.0.0')).toBe(false);
    expect(esp32FotaIsNewer('v3.0.1', '1.0.0')).toBe(false);
    expect(esp32FotaIsNewer('1.0.0', '1.1.0-rc.1')).toBe(true);
  });
});

describe('fireflyManifest', () => {
  const sig = '?Expires=1790000000&Signature=' + 'a'.repeat(344) + '&Key-Pair-Id=K2JCJMDEHXQW5F';
  const cdn = 'https://d111111abcdef8.cloudfront.net/fw/p_0123456789abcdef0123/b_42';

  it('release with a ui image: stock reads app + filesystem image from host/port/bin/spiffs; the fork reads app/ui', () => {
    const app = `${cdn}/app.bin${sig}`;
    const ui = `${cdn}/ui.bin${sig}`;
    const m = fireflyManifest('ffctl', '1.1.0', { app, ui });
    expect(m).not.toHaveProperty('url');
    expect(stockRead({ ...m })).toEqual({
      firmwareUrl: `https://d111111abcdef8.cloudfront.net:443/fw/p_0123456789abcdef0123/b_42/app.bin${sig}`,
      fsUrl: `https://d111111abcdef8.cloudfront.net:443/fw/p_0123456789abcdef0123/b_42/ui.bin${sig}`,
    });
    expect({ app: m.app, ui: m.ui }).toEqual({ app, ui });
    expect(Buffer.byteLength(JSON.stringify(m))).toBeLessThanOrEqual(ESP32FOTA_MANIFEST_MAX_BYTES);
  });

  it('plain http on another port (local edge) keeps its scheme and port', () => {
    const m = fireflyManifest('t', '1.0.0', { app: 'http://127.0.0.1:4567/a/app.bin?s=1', ui: 'http://127.0.0.1:4567/a/ui.bin?s=1' });
    expect(stockRead({ ...m })).toEqual({ firmwareUrl: 'http://127.0.0.1:4567/a/app.bin?s=1', fsUrl: 'http://127.0.0.1:4567/a/ui.bin?s=1' });
  });

  it('release without a ui image, or a scheme the library would not derive from the port: url (app only)', () => {
    expect(stockRead({ ...fireflyManifest('t', '1.0.0', { app: 'https://cdn.example:8443/app.bin?s=1' }) })).toEqual({
      firmwareUrl: 'https://cdn.example:8443/app.bin?s=1',
    });
    const m = fireflyManifest('t', '1.0.0', { app: 'https://cdn.example:8443/app.bin', ui: 'https://cdn.example:8443/ui.bin' });
    expect(m.url).toBe('https://cdn.example:8443/app.bin');
    expect(m.ui).toBe('https://cdn.example:8443/ui.bin');
  });
});
