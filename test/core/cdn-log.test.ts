import { deviceIdFromQuery, MAX_LOG_LINES, parseCdnLog } from '../../lambdas/core/cdn-log';

/** The 33 fields of a CloudFront standard (legacy) log, in the order CloudFront writes them today. */
const FIELDS = [
  'date',
  'time',
  'x-edge-location',
  'sc-bytes',
  'c-ip',
  'cs-method',
  'cs(Host)',
  'cs-uri-stem',
  'sc-status',
  'cs(Referer)',
  'cs(User-Agent)',
  'cs-uri-query',
  'cs(Cookie)',
  'x-edge-result-type',
  'x-edge-request-id',
  'x-host-header',
  'cs-protocol',
  'cs-bytes',
  'time-taken',
  'x-forwarded-for',
  'ssl-protocol',
  'ssl-cipher',
  'x-edge-response-result-type',
  'cs-protocol-version',
  'fle-status',
  'fle-encrypted-fields',
  'c-port',
  'time-to-first-byte',
  'x-edge-detailed-result-type',
  'sc-content-type',
  'sc-content-len',
  'sc-range-start',
  'sc-range-end',
] as const;
type Field = (typeof FIELDS)[number];

const HOST = 'd111111abcdef8.cloudfront.net';
const SIGNED = 'Expires=1764684600&Signature=Qx3k~Zr9Lm0p-AbCdEf__&Key-Pair-Id=K2JCJMDEHXQW5F';
const IMAGE = 1_048_576;

/** A whole, successful GET of ctrl build 42's app image by device AA:BB:CC:DD:EE:FF. */
const BASE: Record<Field, string> = {
  date: '2026-12-02',
  time: '14:03:11',
  'x-edge-location': 'FRA56-P1',
  'sc-bytes': String(IMAGE + 401),
  'c-ip': '203.0.113.9',
  'cs-method': 'GET',
  'cs(Host)': HOST,
  'cs-uri-stem': '/ctrl/42/app.bin',
  'sc-status': '200',
  'cs(Referer)': '-',
  'cs(User-Agent)': 'ESP32%20HTTP%20Client/1.0',
  'cs-uri-query': `d=AA:BB:CC:DD:EE:FF&${SIGNED}`,
  'cs(Cookie)': '-',
  'x-edge-result-type': 'Miss',
  'x-edge-request-id': 'kP01Cgw2cMXMKlogaJwkCt7MVHA8Flxtt_ncRESDd9POQpVWSM64w==',
  'x-host-header': HOST,
  'cs-protocol': 'https',
  'cs-bytes': '412',
  'time-taken': '1.204',
  'x-forwarded-for': '-',
  'ssl-protocol': 'TLSv1.3',
  'ssl-cipher': 'TLS_AES_128_GCM_SHA256',
  'x-edge-response-result-type': 'Miss',
  'cs-protocol-version': 'HTTP/1.1',
  'fle-status': '-',
  'fle-encrypted-fields': '-',
  'c-port': '51234',
  'time-to-first-byte': '0.031',
  'x-edge-detailed-result-type': 'Miss',
  'sc-content-type': 'application/octet-stream',
  'sc-content-len': String(IMAGE),
  'sc-range-start': '-',
  'sc-range-end': '-',
};

const header = (fields: readonly string[] = FIELDS) => `#Version: 1.0\n#Fields: ${fields.join(' ')}\n`;
const line = (over: Partial<Record<Field, string>> = {}, fields: readonly string[] = FIELDS) =>
  fields.map((f) => ({ ...BASE, ...over })[f as Field]).join('\t');
const log = (...lines: string[]) => header() + lines.join('\n') + '\n';

describe('parseCdnLog', () => {
  it('expect a whole, attributed download when a 200 delivered sc-content-len bytes plus headers', () => {
    const { downloads, malformed, ignored, truncated } = parseCdnLog(log(line()));
    expect(downloads).toEqual([
      {
        productId: 'ctrl',
        build: 42,
        role: 'app',
        deviceId: 'AA:BB:CC:DD:EE:FF',
        at: '2026-12-02T14:03:11.000Z',
        status: 200,
        bytes: IMAGE,
        complete: true,
      },
    ]);
    expect({ malformed, ignored, truncated }).toEqual({ malformed: 0, ignored: 0, truncated: false });
  });

  it('expect the #Fields line to decide the columns when the fields come in another order (and some are missing)', () => {
    const fields = ['sc-status', 'cs-uri-query', 'time', 'cs-uri-stem', 'sc-content-len', 'date', 'sc-bytes', 'cs-method'];
    const text = header(fields) + line({ 'cs-uri-stem': '/ctrl/7/ui.bin', 'cs-uri-query': `d=dev-9&${SIGNED}` }, fields) + '\n';
    expect(parseCdnLog(text).downloads).toEqual([
      { productId: 'ctrl', build: 7, role: 'ui', deviceId: 'dev-9', at: '2026-12-02T14:03:11.000Z', status: 200, bytes: IMAGE, complete: true },
    ]);
  });

  it('expect a later #Fields line to take over for the lines after it', () => {
    const fields = ['date', 'time', 'cs-uri-stem', 'sc-status', 'sc-bytes', 'sc-content-len', 'cs-uri-query'];
    const text = log(line()) + header(fields) + line({ 'cs-uri-query': 'd=dev-2' }, fields) + '\n';
    expect(parseCdnLog(text).downloads.map((d) => [d.deviceId, d.complete])).toEqual([
      ['AA:BB:CC:DD:EE:FF', true],
      ['dev-2', true],
    ]);
  });

  it('expect not complete when a 200 sent fewer bytes than its Content-Length (the device hung up)', () => {
    const [d] = parseCdnLog(log(line({ 'sc-bytes': '300401' }))).downloads;
    expect(d).toMatchObject({ status: 200, complete: false, bytes: 300_401 });
    expect(d!.rangeEnd).toBeUndefined();
  });

  it('expect not complete when CloudFront logged the response as an Error although the byte counts look whole', () => {
    const [d] = parseCdnLog(log(line({ 'x-edge-result-type': 'Error', 'x-edge-detailed-result-type': 'ClientCommError' }))).downloads;
    expect(d).toMatchObject({ complete: false });
  });

  it('expect not complete when sc-content-len is not logged (nothing says the body went out)', () => {
    const fields = FIELDS.filter((f) => f !== 'sc-content-len');
    const [d] = parseCdnLog(header(fields) + line({}, fields) + '\n').downloads;
    expect(d).toMatchObject({ status: 200, complete: false });
  });

  it('expect not complete when sc-content-len is `-`', () => {
    expect(parseCdnLog(log(line({ 'sc-content-len': '-' }))).downloads[0]).toMatchObject({ complete: false });
  });

  it('expect a 206 that delivered its range to carry sc-range-end (a resumed download that reached the end)', () => {
    const over = { 'sc-status': '206', 'sc-content-len': '48576', 'sc-bytes': '48990', 'sc-range-start': '1000000', 'sc-range-end': String(IMAGE - 1) };
    expect(parseCdnLog(log(line(over))).downloads[0]).toMatchObject({ status: 206, complete: false, rangeEnd: IMAGE - 1, bytes: 48_576 });
  });

  it('expect no rangeEnd when a 206 was cut short', () => {
    const over = { 'sc-status': '206', 'sc-content-len': '48576', 'sc-bytes': '20000', 'sc-range-start': '1000000', 'sc-range-end': String(IMAGE - 1) };
    const [d] = parseCdnLog(log(line(over))).downloads;
    expect(d).toMatchObject({ status: 206, complete: false });
    expect(d!.rangeEnd).toBeUndefined();
  });

  it('expect 403s, 304s, 5xx and HEADs to be ignored, not downloads', () => {
    const parsed = parseCdnLog(
      log(
        line({ 'sc-status': '403', 'x-edge-result-type': 'Error', 'sc-bytes': '512', 'sc-content-len': '146' }),
        line({ 'sc-status': '304' }),
        line({ 'sc-status': '502', 'x-edge-result-type': 'Error' }),
        line({ 'cs-method': 'HEAD', 'sc-bytes': '401' }),
      ),
    );
    expect(parsed).toMatchObject({ downloads: [], ignored: 4, malformed: 0 });
  });

  it('expect other paths to be ignored (not firmware object keys)', () => {
    const parsed = parseCdnLog(
      log(line({ 'cs-uri-stem': '/favicon.ico' }), line({ 'cs-uri-stem': '/ctrl/42/app.bin.bak' }), line({ 'cs-uri-stem': '/ctrl/x/app.bin' })),
    );
    expect(parsed).toMatchObject({ downloads: [], ignored: 3 });
  });

  it('expect no device when the query is `-` or has no d', () => {
    const { downloads } = parseCdnLog(log(line({ 'cs-uri-query': '-' }), line({ 'cs-uri-query': SIGNED })));
    expect(downloads).toHaveLength(2);
    for (const d of downloads) {
      expect(d.deviceId).toBeUndefined();
      expect(d.complete).toBe(true);
    }
  });

  it('expect encoded device ids to be decoded when the log percent-encodes them once or twice', () => {
    const ids = parseCdnLog(
      log(line({ 'cs-uri-query': `d=AA%3ABB%3ACC%3ADD%3AEE%3AFF&${SIGNED}` }), line({ 'cs-uri-query': `${SIGNED}&d=AA%253ABB%253ACC%253ADD%253AEE%253AFF` })),
    ).downloads.map((d) => d.deviceId);
    expect(ids).toEqual(['AA:BB:CC:DD:EE:FF', 'AA:BB:CC:DD:EE:FF']);
  });

  it('expect a URL-decoded stem when the product id was percent-encoded in the path', () => {
    expect(parseCdnLog(log(line({ 'cs-uri-stem': '/ctrl%2Dv2/42/app.bin' }))).downloads[0]).toMatchObject({ productId: 'ctrl-v2', build: 42 });
  });

  it('expect garbage lines to be counted as malformed and the good ones still read', () => {
    const parsed = parseCdnLog(
      log(
        'not a log line at all',
        line().split('\t').slice(0, 20).join('\t'), // truncated line
        line({ 'sc-status': 'OK' }),
        line({ date: '02/12/2026' }),
        line({ 'cs-uri-stem': '/ctrl/%E0%A4%A/app.bin' }), // bad percent-encoding
        '\u0000\u0001\u0002',
        line(),
      ),
    );
    expect(parsed.downloads).toHaveLength(1);
    expect(parsed.malformed).toBe(6);
  });

  it('expect data lines before any #Fields line to be malformed (the column order is unknown)', () => {
    expect(parseCdnLog(line() + '\n')).toMatchObject({ downloads: [], malformed: 1 });
  });

  it('expect CRLF line ends and blank lines to be tolerated', () => {
    expect(parseCdnLog(log(line(), '', line()).replace(/\n/g, '\r\n')).downloads).toHaveLength(2);
  });

  it('expect at most maxLines lines read, and truncated set, when the file is longer', () => {
    const parsed = parseCdnLog(log(line(), line(), line(), line()), 4);
    expect(parsed.downloads).toHaveLength(2); // 2 header lines + 2 data lines
    expect(parsed.truncated).toBe(true);
    expect(parseCdnLog(log(line(), line()), 4).truncated).toBe(false);
    expect(MAX_LOG_LINES).toBeGreaterThanOrEqual(100_000);
  });
});

describe('deviceIdFromQuery', () => {
  it('expect undefined when the d value is not a device id (spaces, slashes, empty)', () => {
    expect(deviceIdFromQuery('d=a%20b')).toBeUndefined();
    expect(deviceIdFromQuery('d=a%2Fb')).toBeUndefined();
    expect(deviceIdFromQuery('d=')).toBeUndefined();
    expect(deviceIdFromQuery('d=%E0%A4%A')).toBeUndefined();
  });

  it('expect only the d parameter to name the device (not dd or xd)', () => {
    expect(deviceIdFromQuery('dd=x1&xd=x2')).toBeUndefined();
    expect(deviceIdFromQuery('dd=x1&d=x3')).toBe('x3');
  });
});
