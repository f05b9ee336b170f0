/**
 * CloudFront standard (legacy) access logs → the downloads the CDN served. A log file (gunzipped)
 * is W3C-style: `#Version:` and `#Fields:` header lines, then one tab-separated line per request.
 * The `#Fields:` line decides the column order (CloudFront has added fields over the years and
 * may again), so nothing here assumes positions. Pure: no AWS imports.
 *
 * Fields used (CloudFront Developer Guide, "Log file fields"):
 * - `date`, `time`: when the response finished (UTC);
 * - `cs-method`: only GETs download (a HEAD is never evidence);
 * - `cs-uri-stem`: the object path, URL-encoded, with a leading `/`;
 * - `sc-status`: 200 (whole object) or 206 (a range); anything else is not a download;
 * - `cs-uri-query`: the query string as sent, URL-encoded (`-` when there is none) — carries `d`;
 * - `sc-bytes`: bytes sent to the viewer, headers included;
 * - `sc-content-len`: the response's Content-Length (the body it promised);
 * - `sc-range-end`: for a 206, the last byte of the Content-Range (inclusive);
 * - `x-edge-result-type`, `x-edge-response-result-type`: `Error` when the response failed or the
 *   viewer disconnected before the end of the body.
 */
import { DEVICE_ID_PATTERN } from './device-id';
import { DEVICE_URL_PARAM, parseFirmwareObjectKey, type ServedDownload } from './download';

/**
 * Lines read from one log file, at most. CloudFront splits busy periods into several files; a
 * file far beyond this is not one of them, and the rest of it is left unread (reported).
 */
export const MAX_LOG_LINES = 500_000;

export interface ParsedCdnLog {
  /** GETs of firmware objects answered 200/206, in file order. */
  readonly downloads: ServedDownload[];
  /** Lines that could not be read (no `#Fields` yet, wrong column count, bad status/date/encoding). */
  readonly malformed: number;
  /** Well-formed requests that are not firmware downloads (other paths, HEADs, 304s, 403s...). */
  readonly ignored: number;
  /** The line cap was reached: the rest of the file was not read. */
  readonly truncated: boolean;
}

const NONE = '-';

/** The log's number, or undefined for `-`, empty or anything that is not a non-negative integer. */
function count(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\d{1,15}$/.test(raw)) return undefined;
  return Number(raw);
}

/** Percent-decodes once; undefined when the text is not valid percent-encoding. */
function decodeOnce(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/**
 * The device a signed URL names (`d`), from the logged query. The log URL-encodes the query as
 * the viewer sent it, so an id the viewer had itself percent-encoded (`aa%3Abb`) is logged encoded
 * twice; ids never contain `%`, so decoding until none is left (at most twice) is unambiguous.
 * Anything that is not a valid device id afterwards names no device.
 */
export function deviceIdFromQuery(query: string | undefined): string | undefined {
  if (query === undefined || query === NONE || query === '') return undefined;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq) !== DEVICE_URL_PARAM) continue;
    let value: string | undefined = pair.slice(eq + 1).replace(/\+/g, ' ');
    for (let i = 0; i < 2 && value !== undefined && value.includes('%'); i++) value = decodeOnce(value);
    return value !== undefined && DEVICE_ID_PATTERN.test(value) ? value : undefined;
  }
  return undefined;
}

type Row = (name: string) => string | undefined;

/** One log line → a served download, `'ignored'` (not a firmware download) or `'malformed'`. */
function toDownload(get: Row): ServedDownload | 'ignored' | 'malformed' {
  const status = count(get('sc-status'));
  const stem = get('cs-uri-stem');
  const date = get('date');
  const time = get('time');
  if (status === undefined || stem === undefined || date === undefined || time === undefined) return 'malformed';
  const method = get('cs-method');
  if ((method !== undefined && method !== 'GET') || (status !== 200 && status !== 206)) return 'ignored';
  const key = decodeOnce(stem.replace(/^\//, ''));
  if (key === undefined) return 'malformed';
  const file = parseFirmwareObjectKey(key);
  if (!file) return 'ignored';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !/^\d{2}:\d{2}:\d{2}$/.test(time)) return 'malformed';
  const at = new Date(`${date}T${time}Z`);
  if (Number.isNaN(at.getTime())) return 'malformed';

  const sent = count(get('sc-bytes'));
  const contentLength = count(get('sc-content-len'));
  // `Error` in either result type: the response failed, or the viewer hung up before its end.
  const failed = get('x-edge-result-type') === 'Error' || get('x-edge-response-result-type') === 'Error';
  // sc-bytes counts the headers too, so reaching the Content-Length is necessary for a whole body;
  // without either field (or with an error) nothing says the body went out: not delivered.
  const delivered = !failed && sent !== undefined && contentLength !== undefined && sent >= contentLength;
  const rangeEnd = status === 206 && delivered ? count(get('sc-range-end')) : undefined;
  const deviceId = deviceIdFromQuery(get('cs-uri-query'));
  return {
    ...file,
    ...(deviceId ? { deviceId } : {}),
    at: at.toISOString(),
    status,
    // Body bytes: the whole Content-Length when delivered, else what went out at most (headers included).
    bytes: delivered ? contentLength : Math.min(sent ?? 0, contentLength ?? sent ?? 0),
    ...(rangeEnd !== undefined ? { rangeEnd } : {}),
    complete: status === 200 && delivered,
  };
}

/** Parses a (gunzipped) CloudFront standard log file. Never throws: unreadable lines are counted. */
export function parseCdnLog(text: string, maxLines = MAX_LOG_LINES): ParsedCdnLog {
  const downloads: ServedDownload[] = [];
  let malformed = 0;
  let ignored = 0;
  let fields: Map<string, number> | undefined;
  let lines = 0;
  let start = 0;
  while (start < text.length) {
    if (lines >= maxLines) return { downloads, malformed, ignored, truncated: true };
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).replace(/\r$/, '');
    start = end + 1;
    lines++;
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^#Fields:\s*(.*)$/.exec(line);
      if (m)
        fields = new Map(
          m[1]!
            .trim()
            .split(/\s+/)
            .map((name, i) => [name, i] as const),
        );
      continue;
    }
    const cols = line.split('\t');
    if (!fields || cols.length !== fields.size) {
      malformed++;
      continue;
    }
    const index = fields;
    const d = toDownload((name) => {
      const i = index.get(name);
      return i === undefined ? undefined : cols[i];
    });
    if (d === 'malformed') malformed++;
    else if (d === 'ignored') ignored++;
    else downloads.push(d);
  }
  return { downloads, malformed, ignored, truncated: false };
}
