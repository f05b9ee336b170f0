/**
 * `otactl deploy create|list|get|status|promote|pause|resume|cancel|complete` (the deployment operations of lambdas/contract/operator.ts).
 * `deploy status --watch` redraws a live table every 2 s until the deployment stops moving.
 */
import type * as z from 'zod/mini';
import type { CallArgs, SuccessBody } from '../../../lambdas/contract/client';
import {
  cancelDeployment,
  completeDeployment,
  createDeployment,
  getDeployment,
  listDeployments,
  pauseDeployment,
  promoteDeployment,
  resumeDeployment,
  type Deployment,
} from '../../../lambdas/contract/operator';
import { emit, type Ctx } from '../context';
import { EXIT, UsageError } from '../errors';
import { bar, keyValues, LiveBlock, table, type Column } from '../output';

export interface DeployCreateOptions {
  readonly build: number;
  readonly percentage?: number;
  readonly channel?: string;
  readonly groups?: readonly string[];
  readonly seed?: string;
  readonly force?: boolean;
  /** `percentage:soak_minutes:min_success_rate,…` */
  readonly schedule?: string;
  readonly maxFailures?: number;
  readonly maxFailureRate?: number;
  readonly minSample?: number;
  readonly timeoutMinutes?: number;
}

type CreateBody = CallArgs<typeof createDeployment>['body'];
type DeploymentView = z.output<typeof Deployment>;

/** `"1:60:0.95,10:60:0.95,100:0:0"` → schedule steps of the create body. */
export function parseSchedule(s: string): NonNullable<CreateBody['schedule']> {
  const steps = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map((step) => {
      const parts = step.split(':');
      const nums = parts.map((p) => (p.trim() === '' ? NaN : Number(p)));
      if (parts.length !== 3 || nums.some((n) => !Number.isFinite(n))) {
        throw new UsageError(`--schedule step "${step}" must be percentage:soak_minutes:min_success_rate (e.g. 10:60:0.95)`);
      }
      return { percentage: nums[0], soak_minutes: nums[1], min_success_rate: nums[2] };
    });
  if (!steps.length) throw new UsageError('--schedule needs at least one step');
  return steps;
}

/** The create body (the createDeployment declaration's CreateDeploymentRequest). */
export function deploymentBody(o: DeployCreateOptions): CreateBody {
  if (o.percentage === undefined && o.schedule === undefined) throw new UsageError('give --percentage or --schedule');
  return {
    build: o.build,
    ...(o.percentage !== undefined ? { percentage: o.percentage } : {}),
    ...(o.channel !== undefined ? { channel: o.channel } : {}),
    ...(o.groups?.length ? { groups: [...o.groups] } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.force ? { force: true } : {}),
    ...(o.schedule !== undefined ? { schedule: parseSchedule(o.schedule) } : {}),
    ...(o.maxFailures !== undefined ? { max_failures: o.maxFailures } : {}),
    ...(o.maxFailureRate !== undefined ? { max_failure_rate: o.maxFailureRate } : {}),
    ...(o.minSample !== undefined ? { min_sample: o.minSample } : {}),
    ...(o.timeoutMinutes !== undefined ? { in_progress_timeout_minutes: o.timeoutMinutes } : {}),
  };
}

type Counts = DeploymentView['counts'];
const COUNT_COLUMNS: Column<Counts>[] = [
  { header: 'offered', value: (c) => c.offered, right: true },
  { header: 'succeeded', value: (c) => c.succeeded, right: true },
  { header: 'failed', value: (c) => c.failed, right: true },
  { header: 'rolled back', value: (c) => c.rolled_back, right: true },
  { header: 'timed out', value: (c) => c.timed_out, right: true },
  { header: 'in flight', value: (c) => c.in_flight, right: true },
];

const SETTLED = ['succeeded', 'failed', 'rolled_back', 'timed_out'] as const satisfies readonly (keyof Counts)[];

/** Offers that reached an outcome (success or a failure of some kind) — what the progress bar shows. */
export function settledFraction(counts: Pick<Counts, 'offered' | (typeof SETTLED)[number]>): { settled: number; offered: number; fraction: number } {
  const offered = counts.offered;
  const settled = SETTLED.reduce((n, k) => n + counts[k], 0);
  return { settled, offered, fraction: offered ? settled / offered : 0 };
}

export function renderDeployment(d: DeploymentView): string {
  const c = d.counts;
  const { settled, offered, fraction } = settledFraction(c);
  const step = d.schedule
    ? `${d.schedule.current_step + 1}/${d.schedule.steps.length} (${d.schedule.steps.map((s) => `${s.percentage}%`).join(' → ')})`
    : undefined;
  const policy = Object.entries(d.policy)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}=${v}`);
  return (
    keyValues([
      ['deployment', d.deployment_id],
      ['product', d.product_id],
      ['build', `${d.build_number} (${d.version})`],
      ['state', `${d.state}${d.state_reason ? ` (${d.state_reason})` : ''}`],
      ['percentage', `${d.percentage}%`],
      ...(step ? [['schedule step', step] as const] : []),
      ['channel', d.channel],
      ['groups', d.groups],
      ['seed', d.seed],
      ...(d.force ? [['force', true] as const] : []),
      ...(policy.length ? [['policy', policy] as const] : []),
      ...(d.auto_pauses ? [['auto pauses', d.auto_pauses] as const] : []),
      ['created', d.created_at],
      ['updated', d.updated_at],
    ]) +
    '\n' +
    table([c], COUNT_COLUMNS) +
    `${bar(fraction)}  ${settled}/${offered} offers settled\n`
  );
}

export const renderDeploymentList = (items: readonly DeploymentView[]): string =>
  items.length === 0
    ? 'no deployments\n'
    : table(items, [
        { header: 'deployment', value: (d) => d.deployment_id },
        { header: 'build', value: (d) => d.build_number, right: true },
        { header: 'version', value: (d) => d.version },
        { header: 'state', value: (d) => d.state },
        { header: '%', value: (d) => d.percentage, right: true },
        { header: 'channel', value: (d) => d.channel },
        { header: 'offered', value: (d) => d.counts.offered, right: true },
        { header: 'succeeded', value: (d) => d.counts.succeeded, right: true },
        { header: 'failed', value: (d) => d.counts.failed + d.counts.rolled_back + d.counts.timed_out, right: true },
        { header: 'created', value: (d) => d.created_at },
      ]);

export async function deployCreate(ctx: Ctx, productId: string, o: DeployCreateOptions): Promise<DeploymentView> {
  return emit(ctx, await ctx.api.call(createDeployment, { params: { productId }, body: deploymentBody(o) }), renderDeployment);
}

export async function deployList(
  ctx: Ctx,
  productId: string,
  o: NonNullable<CallArgs<typeof listDeployments>['query']> = {},
): Promise<SuccessBody<typeof listDeployments>> {
  return emit(ctx, await ctx.api.call(listDeployments, { params: { productId }, query: { state: o.state } }), (r) => renderDeploymentList(r.items));
}

export async function deployGet(ctx: Ctx, productId: string, id: string): Promise<DeploymentView> {
  return emit(ctx, await ctx.api.call(getDeployment, { params: { productId, deploymentId: id } }), renderDeployment);
}

export async function deployPromote(ctx: Ctx, productId: string, id: string, percentage: number): Promise<DeploymentView> {
  return emit(ctx, await ctx.api.call(promoteDeployment, { params: { productId, deploymentId: id }, body: { percentage } }), renderDeployment);
}

/** The state changes that take no body and answer with the deployment. */
const TRANSITIONS = { pause: pauseDeployment, resume: resumeDeployment, cancel: cancelDeployment, complete: completeDeployment } as const;

export async function deployTransition(ctx: Ctx, productId: string, id: string, action: keyof typeof TRANSITIONS): Promise<DeploymentView> {
  return emit(ctx, await ctx.api.call(TRANSITIONS[action], { params: { productId, deploymentId: id } }), renderDeployment);
}

/** States in which a deployment no longer moves by itself: `--watch` stops there. */
export const STOPPED_STATES: readonly DeploymentView['state'][] = ['completed', 'cancelled', 'paused'];
/** Exit code of `deploy status --watch` when it stopped on paused/cancelled (completed: 0; Ctrl-C: 130). */
export const EXIT_NOT_COMPLETED = EXIT.UNFINISHED;

export interface WatchOptions {
  readonly watch?: boolean;
  /** Refresh period (default 2000 ms). */
  readonly intervalMs?: number;
  /** Aborted by Ctrl-C (bin wires SIGINT). */
  readonly signal?: AbortSignal;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const abortableSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done);
  });

/**
 * `deploy status <id>`: one snapshot; with `watch`, a live view refreshed every 2 s until the
 * deployment is completed, cancelled or paused, or the signal aborts. On a terminal the view is
 * redrawn in place; in a log a new snapshot is printed only when something changed; with
 * `--json` one JSON document per line. Returns the exit code.
 */
export async function deployStatus(ctx: Ctx, productId: string, id: string, o: WatchOptions = {}): Promise<number> {
  const live = new LiveBlock(ctx.out.stdout);
  const sleep = o.sleep ?? abortableSleep;
  let last = '';
  for (;;) {
    const d = await ctx.api.call(getDeployment, { params: { productId, deploymentId: id } });
    const snapshot = JSON.stringify({ state: d.state, percentage: d.percentage, counts: d.counts, step: d.schedule?.current_step });
    if (!o.watch) {
      emit(ctx, d, renderDeployment);
      return 0;
    }
    if (ctx.json) {
      if (snapshot !== last) ctx.out.stdout.write(`${JSON.stringify(d)}\n`);
    } else if (ctx.out.stdout.isTTY) {
      const footer = STOPPED_STATES.includes(d.state) ? '' : `\nrefreshing every ${Math.round((o.intervalMs ?? 2000) / 1000)} s — Ctrl-C to stop\n`;
      live.render(`${renderDeployment(d)}${footer}`);
    } else if (snapshot !== last) {
      ctx.out.stdout.write(`${renderDeployment(d)}\n`);
    }
    last = snapshot;
    if (STOPPED_STATES.includes(d.state)) return d.state === 'completed' ? 0 : EXIT_NOT_COMPLETED;
    if (o.signal?.aborted) return 130;
    await sleep(o.intervalMs ?? 2000, o.signal);
    if (o.signal?.aborted) return 130;
  }
}
