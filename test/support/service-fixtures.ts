/** Shared fixtures of the operator service unit tests: a settable clock, a recording logger, records. */
import { ZERO_COUNTS, type Deployment, type Device, type Firmware, type ProductProtocols } from '../../lambdas/core/model';
import type { ProductInput } from '../../lambdas/shared/store/catalog-store';

export const T0 = '2026-03-01T10:00:00.000Z';

/** A clock tests move by hand. */
export function testClock(start = T0) {
  let t = new Date(start).getTime();
  return {
    now: () => new Date(t),
    iso: () => new Date(t).toISOString(),
    advance(ms: number) {
      t += ms;
    },
  };
}

/** A logger that remembers what it was told. */
export function recordingLogger() {
  const lines: { message: string; extra?: Record<string, unknown> }[] = [];
  return {
    lines,
    info: (message: string, extra?: Record<string, unknown>) => void lines.push({ message, extra }),
    warn: (message: string, extra?: Record<string, unknown>) => void lines.push({ message, extra }),
    messages: () => lines.map((l) => l.message),
  };
}

export const productInput = (productId: string, protocols?: ProductProtocols): ProductInput => ({
  productId,
  name: productId,
  chip: 'esp32',
  autoRegister: true,
  securityMode: 'open',
  pollIntervalS: 900,
  ...(protocols ? { protocols } : {}),
});

export const firmwareRecord = (productId: string, build: number, state: Firmware['state'] = 'RELEASED', version = `1.${build}.0`): Firmware => ({
  productId,
  build,
  version,
  state,
  firmwareType: 'Board',
  files: [{ role: 'app', name: 'app.bin', key: `firmware/${productId}/${build}/app.bin`, size: 100, sha256: 'b'.repeat(64), crc32: '12345678' }],
  app: { chipId: 0, version, projectName: 'proj', idfVersion: 'v5.1' },
  source: `ingest/${productId}/${build}.json`,
  contentDigest: `digest-${build}`,
  createdAt: T0,
});

export const deploymentRecord = (
  productId: string,
  deploymentId: string,
  build: number,
  state: Deployment['state'] = 'active',
  createdAt = T0,
): Deployment => ({
  productId,
  deploymentId,
  build,
  channel: 'stable',
  percentage: 10,
  seed: 'seed',
  state,
  firmware: { build, version: `1.${build}.0`, firmwareType: 'Board', files: [] },
  counts: { ...ZERO_COUNTS },
  createdAt,
  updatedAt: createdAt,
});

export const deviceRecord = (productId: string, deviceId: string, extra: Partial<Device> = {}): Device => ({
  productId,
  deviceId,
  channel: 'stable',
  active: true,
  firstSeen: T0,
  lastSeen: T0,
  failedBuilds: [],
  ...extra,
});
