/**
 * A simulated ESP32 fleet for `otactl simulate` and `npm run demo`: each device checks in over a
 * real device protocol, downloads through the signed CDN URL it is handed, verifies size, SHA-256
 * and CRC-32 like firmware would, "installs" (failing with the given probability, deterministically
 * per device) and reports the outcome where its protocol can. Real HTTP, no shortcuts.
 */
import { createHash } from 'node:crypto';
import { Crc32 } from '../../lambdas/core/checksum';

export type FleetProtocol = 'native' | 'esp32fota' | 'arduino';

export interface FleetStats {
  checks: number;
  offers: number;
  downloads: number;
  verified: number;
  succeeded: number;
  failed: number;
  noUpdate: number;
  errors: number;
}

export interface FleetOptions {
  readonly apiUrl: string;
  readonly product: string;
  readonly devices: number;
  /** Probability (0–1) that an install fails; decided per device and build, reproducibly. */
  readonly failRate: number;
  readonly protocol?: FleetProtocol;
  readonly concurrency?: number;
  /** Check-in rounds per device (each device checks once per round). @default 1 */
  readonly rounds?: number;
  readonly idPrefix?: string;
  readonly seed?: number;
  /** The version every device starts on. @default 0.0.0 */
  readonly initialVersion?: string;
  /** `/ota/{class}/{hex}` for esp32fota. */
  readonly fireflyPath?: string;
  readonly channel?: string;
  readonly onProgress?: (s: Readonly<FleetStats>) => void;
}

export interface SimDevice {
  readonly id: string;
  /** Decimal efuse-MAC form esp32FOTA sends. */
  readonly efuseId: string;
  version: string;
  build?: number;
}

/** Devices with MAC-shaped ids (the last three bytes count up), stable across runs for a prefix. */
export function makeFleet(count: number, prefix = '24:0A:C4', initialVersion = '0.0.0'): SimDevice[] {
  return Array.from({ length: count }, (_, i) => {
    const bytes = [...prefix.split(':').map((h) => parseInt(h, 16)), (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff];
    const id = bytes.map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
    const efuse = bytes.reduceRight((acc, b) => acc * 256n + BigInt(b), 0n);
    return { id, efuseId: efuse.toString(), version: initialVersion };
  });
}

/** Deterministic [0,1) from a string (FNV-1a → mulberry32), so "which devices fail" is reproducible. */
export function unitRandom(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  let t = (h + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const emptyStats = (): FleetStats => ({ checks: 0, offers: 0, downloads: 0, verified: 0, succeeded: 0, failed: 0, noUpdate: 0, errors: 0 });

async function download(url: string, expect: { size?: number; sha256?: string; crc32?: string }): Promise<boolean> {
  const r = await fetch(url);
  if (r.status !== 200) return false;
  const bytes = Buffer.from(await r.arrayBuffer());
  if (Number(r.headers.get('content-length')) !== bytes.length) return false;
  if (expect.size !== undefined && bytes.length !== expect.size) return false;
  if (expect.sha256 && createHash('sha256').update(bytes).digest('hex') !== expect.sha256) return false;
  if (expect.crc32 && new Crc32().update(bytes).hex() !== expect.crc32) return false;
  return true;
}

/** One check-in of one device; mutates the device's version on a successful install. */
export async function checkIn(device: SimDevice, opts: FleetOptions, stats: FleetStats): Promise<void> {
  const protocol = opts.protocol ?? 'native';
  const fails = (build: string) => unitRandom(`${opts.seed ?? 0}:${device.id}:${build}`) < opts.failRate;
  stats.checks++;
  if (protocol === 'native') {
    const res = await fetch(`${opts.apiUrl}/api/v1/ota/check/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ product: opts.product, device_id: device.id, version: device.version, ...(opts.channel ? { channel: opts.channel } : {}) }),
    });
    const offer = (await res.json()) as {
      status: string;
      url?: string;
      size?: number;
      sha256?: string;
      crc32?: string;
      build_number?: number;
      version?: string;
      deployment_id?: string;
    };
    if (res.status !== 200) return void stats.errors++;
    if (offer.status !== 'update_available' || !offer.url) return void stats.noUpdate++;
    stats.offers++;
    const report = (status: string) =>
      fetch(`${opts.apiUrl}/api/v1/ota/status/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          product: opts.product,
          device_id: device.id,
          build_number: offer.build_number,
          status,
          ...(offer.deployment_id ? { deployment_id: offer.deployment_id } : {}),
        }),
      }).then((r) => r.arrayBuffer());
    stats.downloads++;
    if (!(await download(offer.url, offer))) {
      stats.errors++;
      return void (await report('failed'));
    }
    stats.verified++;
    if (fails(String(offer.build_number))) {
      stats.failed++;
      return void (await report('rolled_back'));
    }
    device.version = offer.version!;
    device.build = offer.build_number;
    stats.succeeded++;
    await report('success');
    return;
  }
  if (protocol === 'esp32fota') {
    if (!opts.fireflyPath) throw new Error('esp32fota simulation needs fireflyPath (/ota/{class}/{hex})');
    const res = await fetch(`${opts.apiUrl}${opts.fireflyPath}?current_version=${encodeURIComponent(device.version)}&id=${device.efuseId}`);
    if (res.status !== 200) return void stats.errors++;
    const m = (await res.json()) as { version: string; url?: string };
    if (m.version === device.version || !m.url) return void stats.noUpdate++;
    stats.offers++;
    stats.downloads++;
    if (!(await download(m.url, {}))) return void stats.errors++;
    stats.verified++;
    // esp32FOTA reports nothing: a failed install just stays on its version.
    if (fails(m.version)) return void stats.failed++;
    device.version = m.version;
    stats.succeeded++;
    return;
  }
  const res = await fetch(`${opts.apiUrl}/api/v1/ota/arduino/${opts.product}`, {
    headers: { 'x-ESP32-STA-MAC': device.id, 'x-ESP32-version': device.version, 'x-ESP32-mode': 'sketch' },
    redirect: 'manual',
  });
  if (res.status === 304) return void stats.noUpdate++;
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) return void stats.errors++;
  stats.offers++;
  stats.downloads++;
  if (!(await download(location, {}))) return void stats.errors++;
  stats.verified++;
  if (fails(location.split('?')[0]!)) return void stats.failed++;
  // HTTPUpdate learns its new version from the firmware itself; the simulator reads it from the key.
  stats.succeeded++;
}

/** Runs `rounds` check-ins of the whole fleet with bounded concurrency. */
export async function simulateFleet(opts: FleetOptions, fleet: SimDevice[] = makeFleet(opts.devices, opts.idPrefix, opts.initialVersion)): Promise<FleetStats> {
  const stats = emptyStats();
  const concurrency = Math.max(1, opts.concurrency ?? 32);
  for (let round = 0; round < (opts.rounds ?? 1); round++) {
    let next = 0;
    const worker = async () => {
      while (next < fleet.length) {
        const device = fleet[next++]!;
        try {
          await checkIn(device, opts, stats);
        } catch {
          stats.errors++;
        }
        opts.onProgress?.(stats);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, fleet.length) }, worker));
  }
  return stats;
}
