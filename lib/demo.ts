/**
 * The demo (`npm run demo`): on an in-memory local platform, create a product, publish two
 * synthetic builds (valid ESP32 images) the way CI does, roll the first out through a scheduled
 * canary (1 % → 10 % → 100 %) to a simulated fleet, then roll out the second, which the fleet
 * fails, and watch the deployment pause itself. The sweeper runs on a simulated clock, so an
 * hour of soak takes no time. Everything else is real: HTTP, signed downloads, verification.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startPlatform, type LocalPlatform } from './local/platform';
import { buildDemoImage } from './sim/demo-image';
import { makeFleet, simulateFleet, type FleetStats, type SimDevice } from './sim/fleet';

export interface DemoOptions {
  readonly devices?: number;
  readonly log?: (line: string) => void;
}

export interface DemoResult {
  readonly canary: Record<string, unknown>;
  readonly bad: Record<string, unknown>;
  readonly versions: Record<string, number>;
  readonly steps: { at: string; percentage: number; fleet: FleetStats }[];
}

const PRODUCT = 'demo';

async function api(platform: LocalPlatform, method: string, path: string, body?: unknown) {
  const r = await fetch(`${platform.apiUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await r.json()) as Record<string, any>;
  if (r.status >= 400) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(json)}`);
  return json;
}

async function publish(platform: LocalPlatform, version: string, fill: number): Promise<number> {
  const image = buildDemoImage(version, fill);
  const prefix = `${PRODUCT}/${version}/`;
  await platform.s3.send(new PutObjectCommand({ Bucket: platform.buckets.ingest, Key: `${prefix}demo.ino.bin`, Body: image }));
  const manifest = {
    product: PRODUCT,
    version,
    firmware_type: 'Demo Board',
    release: true,
    files: [{ name: 'demo.ino.bin', sha256: createHash('sha256').update(image).digest('hex') }],
  };
  await platform.s3.send(new PutObjectCommand({ Bucket: platform.buckets.ingest, Key: `${prefix}manifest.json`, Body: JSON.stringify(manifest) }));
  await platform.ingest.idle();
  const r = await platform.s3.send(new GetObjectCommand({ Bucket: platform.buckets.ingest, Key: `${prefix}result.json` }));
  const result = JSON.parse(await r.Body!.transformToString());
  if (result.status !== 'accepted') throw new Error(`publish ${version} rejected: ${result.reason}`);
  return result.build_number;
}

const pad = (s: unknown, n: number) => String(s).padEnd(n);
const row = (cells: unknown[], widths: number[]) => cells.map((c, i) => pad(c, widths[i]!)).join('  ');

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const devices = opts.devices ?? 2000;
  process.env.OTA_SILENT = '1';
  const platform = await startPlatform({ inMemory: true, apiPort: 0, cdnPort: 0, s3Port: 0, quiet: true, sweepIntervalMs: 0 });
  try {
    log(`platform up: API ${platform.apiUrl}, CDN ${platform.cdnUrl}`);
    await api(platform, 'PUT', `/admin/v1/products/${PRODUCT}`, { chip: 'esp32', security_mode: 'open', firmware_type: 'Demo Board', poll_interval_s: 300 });
    const good = await publish(platform, '1.1.0', 11);
    const bad = await publish(platform, '1.2.0', 12);
    log(`published 1.1.0 as build ${good} and 1.2.0 as build ${bad} (ESP32 images, validated and checksummed on ingest)`);

    const fleet: SimDevice[] = makeFleet(devices, '24:0A:C4', '1.0.0');
    const round = async (failRate: number, seed: number) => {
      const t0 = Date.now();
      const s = await simulateFleet(
        { apiUrl: platform.apiUrl, product: PRODUCT, devices, failRate, seed, concurrency: Number(process.env.DEMO_CONCURRENCY ?? 24) },
        fleet,
      );
      if (process.env.DEMO_TIMING) log(`    (round: ${Date.now() - t0} ms, ${s.checks} checks, ${s.downloads} downloads)`);
      return s;
    };

    // 1. A scheduled canary of the good build: 1 % → 10 % → 100 %, each step soaks 60 min and needs 90 % success.
    // Fixed cohort seeds: the same devices land in each step on every run, so the demo (and its
    // test on a small fleet) is reproducible.
    const canary = await api(platform, 'POST', `/admin/v1/products/${PRODUCT}/deployments`, {
      build: good,
      seed: 'demo-canary',
      schedule: [
        { percentage: 1, soak_minutes: 60, min_success_rate: 0.9 },
        { percentage: 10, soak_minutes: 60, min_success_rate: 0.9 },
        { percentage: 100, soak_minutes: 0, min_success_rate: 0 },
      ],
      max_failure_rate: 0.1,
      min_sample: 20,
    });
    log(`\ncanary ${canary.deployment_id}: build ${good} at 1 %, then 10 %, then 100 % (soak 60 min, gate 90 % success)`);
    let clock = Date.parse(canary.created_at);
    const steps: DemoResult['steps'] = [];
    for (let i = 0; i < 3; i++) {
      const stats = await round(0.01, 1);
      const d = await api(platform, 'GET', `/admin/v1/products/${PRODUCT}/deployments/${canary.deployment_id}`);
      steps.push({ at: new Date(clock).toISOString(), percentage: d.percentage, fleet: stats });
      log(
        `  t+${String((clock - Date.parse(canary.created_at)) / 60_000).padStart(3)} min  at ${pad(`${d.percentage} %`, 6)} offered ${pad(d.counts.offered, 5)} succeeded ${pad(d.counts.succeeded, 5)} rolled back ${d.counts.rolled_back}`,
      );
      clock += 61 * 60_000;
      const sweep = await platform.sweep(new Date(clock));
      for (const p of sweep.promoted) log(`  sweeper: gate passed, promoted to ${p.percentage} %`);
    }

    // 2. The bad build: the fleet fails it; the failure policy pauses the deployment by itself.
    const badDep = await api(platform, 'POST', `/admin/v1/products/${PRODUCT}/deployments`, {
      build: bad,
      seed: 'demo-bad',
      percentage: 100,
      max_failures: 25,
      max_failure_rate: 0.2,
      min_sample: 20,
    });
    log(`\nrollout ${badDep.deployment_id}: build ${bad} to 100 % with max_failures 25, max_failure_rate 20 % over ≥ 20`);
    const badStats = await round(0.9, 2);
    const after = await api(platform, 'GET', `/admin/v1/products/${PRODUCT}/deployments/${badDep.deployment_id}`);
    log(`  ${after.state}: ${after.state_reason}`);
    log(
      `  the fleet made ${badStats.checks} checks; ${after.counts.offered} devices were offered build ${bad} before the pause, ${badStats.noUpdate} were not`,
    );

    // 3. Summary.
    const versions: Record<string, number> = {};
    for (const d of fleet) versions[d.version] = (versions[d.version] ?? 0) + 1;
    const finalCanary = await api(platform, 'GET', `/admin/v1/products/${PRODUCT}/deployments/${canary.deployment_id}`);
    const widths = [16, 6, 9, 8, 9, 10, 12, 40];
    log(`\n${row(['deployment', 'build', 'state', 'percent', 'offered', 'succeeded', 'failed/rb', 'reason'], widths)}`);
    for (const d of [finalCanary, after]) {
      log(
        row(
          [
            d.deployment_id.slice(0, 16),
            d.build_number,
            d.state,
            `${d.percentage} %`,
            d.counts.offered,
            d.counts.succeeded,
            d.counts.failed + d.counts.rolled_back,
            d.state_reason ?? '',
          ],
          widths,
        ),
      );
    }
    log(
      `\nfleet of ${devices}: ${Object.entries(versions)
        .map(([v, n]) => `${n} on ${v}`)
        .join(', ')}`,
    );
    return { canary: finalCanary, bad: after, versions, steps };
  } finally {
    await platform.stop();
  }
}
