/**
 * `otactl simulate`: a simulated fleet (lib/sim/fleet.ts) against the device API, with a live
 * counter line on a terminal and the final stats as a table (or JSON).
 */
import type { FleetStats } from '../../sim/fleet';
import { simulateFleet } from '../../sim/fleet';
import { UsageError } from '../errors';
import { keyValues, printJson, println, type Output } from '../output';

export interface SimulateOptions {
  readonly product: string;
  readonly devices: number;
  readonly failRate: number;
  readonly protocol?: 'native' | 'esp32fota' | 'arduino';
  readonly concurrency?: number;
  readonly rounds?: number;
  readonly idPrefix?: string;
  readonly seed?: number;
  readonly fireflyPath?: string;
}

export const PROTOCOLS = ['native', 'esp32fota', 'arduino'] as const;

export interface SimulateDeps {
  /** The device API base URL. */
  readonly apiUrl: string;
  readonly out: Output;
  readonly json?: boolean;
  /** Injectable for tests; defaults to lib/sim/fleet.ts. */
  readonly simulate?: typeof simulateFleet;
}

const statsLine = (s: Readonly<FleetStats>) =>
  `checks ${s.checks}  offers ${s.offers}  downloads ${s.downloads}  verified ${s.verified}  succeeded ${s.succeeded}  failed ${s.failed}  no update ${s.noUpdate}  errors ${s.errors}`;

export function validateSimulateOptions(o: SimulateOptions): void {
  if (!Number.isInteger(o.devices) || o.devices < 1) throw new UsageError('--devices must be a positive integer');
  if (!(o.failRate >= 0 && o.failRate <= 1)) throw new UsageError('--fail-rate must be between 0 and 1');
  if (o.protocol && !PROTOCOLS.includes(o.protocol)) throw new UsageError(`--protocol must be one of ${PROTOCOLS.join(', ')}`);
  if (o.protocol === 'esp32fota' && !o.fireflyPath) throw new UsageError('--protocol esp32fota needs --firefly-path /ota/<class>/<product_hex>');
  if (o.concurrency !== undefined && (!Number.isInteger(o.concurrency) || o.concurrency < 1)) throw new UsageError('--concurrency must be a positive integer');
  if (o.rounds !== undefined && (!Number.isInteger(o.rounds) || o.rounds < 1)) throw new UsageError('--rounds must be a positive integer');
}

/** Runs the fleet; exit code 0 unless a device hit an error (HTTP failure, bad bytes): 1. */
export async function simulate(deps: SimulateDeps, o: SimulateOptions): Promise<{ exitCode: number; stats: FleetStats }> {
  validateSimulateOptions(o);
  const tty = Boolean(deps.out.stderr.isTTY);
  let lastDraw = 0;
  println(deps.out.stderr, `simulating ${o.devices} ${o.protocol ?? 'native'} device(s) of ${o.product} against ${deps.apiUrl} (fail rate ${o.failRate})`);
  const stats = await (deps.simulate ?? simulateFleet)({
    apiUrl: deps.apiUrl,
    product: o.product,
    devices: o.devices,
    failRate: o.failRate,
    ...(o.protocol ? { protocol: o.protocol } : {}),
    ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
    ...(o.rounds !== undefined ? { rounds: o.rounds } : {}),
    ...(o.idPrefix !== undefined ? { idPrefix: o.idPrefix } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.fireflyPath !== undefined ? { fireflyPath: o.fireflyPath } : {}),
    onProgress: (s) => {
      if (!tty) return;
      const now = Date.now();
      if (now - lastDraw < 100) return;
      lastDraw = now;
      deps.out.stderr.write(`\r${statsLine(s)}`);
    },
  });
  if (tty) deps.out.stderr.write('\n');
  if (deps.json) printJson(deps.out, stats);
  else
    deps.out.stdout.write(
      keyValues([
        ['checks', stats.checks],
        ['offers', stats.offers],
        ['downloads', stats.downloads],
        ['verified', stats.verified],
        ['succeeded', stats.succeeded],
        ['failed', stats.failed],
        ['no update', stats.noUpdate],
        ['errors', stats.errors],
      ]),
    );
  return { exitCode: stats.errors > 0 ? 1 : 0, stats };
}
