/**
 * `otactl device list|get|patch|token|assign|assignment|unassign` (the device operations of
 * lambdas/contract/operator.ts). Device ids (MACs: `AA:BB:CC:DD:EE:FF`) are percent-encoded into the path.
 */
import type * as z from 'zod/mini';
import type { CallArgs, SuccessBody } from '../../../lambdas/contract/client';
import {
  assignBuild,
  cancelAssignment,
  getAssignment,
  getDevice,
  issueDeviceToken,
  listDevices,
  patchDevice,
  type Assignment,
  type Device,
  type StatusEntry,
} from '../../../lambdas/contract/operator';
import { emit, type Ctx } from '../context';
import { UsageError } from '../errors';
import { keyValues, table } from '../output';
import { listPages, morePages, type PageOptions } from './firmware';

type DeviceView = z.output<typeof Device>;
type AssignmentView = z.output<typeof Assignment>;

/** A status entry's status, and whether the platform inferred it. */
const statusText = (e: z.output<typeof StatusEntry>): string => `${e.status}${e.inferred ? ' (inferred)' : ''}`;

export const renderDeviceList = (items: readonly DeviceView[]): string =>
  items.length === 0
    ? 'no devices\n'
    : table(items, [
        { header: 'device', value: (d) => d.device_id },
        { header: 'version', value: (d) => d.current_version },
        { header: 'build', value: (d) => d.current_build, right: true },
        { header: 'channel', value: (d) => d.channel },
        { header: 'active', value: (d) => d.active },
        { header: 'groups', value: (d) => d.groups },
        { header: 'last status', value: (d) => (d.last_status ? `${statusText(d.last_status)} (build ${d.last_status.build_number})` : undefined) },
        { header: 'assignment', value: (d) => (d.assignment ? `build ${d.assignment.build_number} ${d.assignment.state}` : undefined) },
        { header: 'last seen', value: (d) => d.last_seen },
      ]);

export const renderAssignment = (a: AssignmentView): string =>
  keyValues([
    ['assignment', a.assignment_id],
    ['build', `${a.build_number} (${a.version})`],
    ['state', a.state],
    ['assigned', a.assigned_at],
    ['updated', a.updated_at],
  ]);

export const renderDevice = (d: DeviceView): string => {
  const head = keyValues([
    ['device', d.device_id],
    ['product', d.product_id],
    ['version', d.current_version],
    ['build', d.current_build],
    ['board', d.board],
    ['chip', d.chip],
    ['hw revision', d.hw_revision],
    ['channel', d.channel],
    ['active', d.active],
    ['groups', d.groups],
    ['tags', Object.keys(d.tags).length ? Object.entries(d.tags).map(([k, v]) => `${k}=${v}`) : undefined],
    ['token', d.token_set ? 'set' : 'none'],
    ['failed builds', d.failed_builds],
    [
      'last offer',
      d.last_offer
        ? `build ${d.last_offer.build_number}${d.last_offer.version ? ` (${d.last_offer.version})` : ''} at ${d.last_offer.offered_at}${d.last_offer.outcome ? `: ${d.last_offer.outcome}${d.last_offer.inferred ? ' (inferred)' : ''}` : ''}`
        : undefined,
    ],
    [
      'last status',
      d.last_status
        ? `${statusText(d.last_status)} build ${d.last_status.build_number} at ${d.last_status.at}${d.last_status.message ? `: ${d.last_status.message}` : ''}`
        : undefined,
    ],
    ['assignment', d.assignment ? `build ${d.assignment.build_number} (${d.assignment.version}) ${d.assignment.state}` : undefined],
    ['first seen', d.first_seen],
    ['last seen', d.last_seen],
  ]);
  return d.history.length
    ? `${head}\n${table(d.history, [
        { header: 'at', value: (h) => h.at },
        { header: 'status', value: (h) => statusText(h) },
        { header: 'build', value: (h) => h.build_number, right: true },
        { header: 'deployment', value: (h) => h.deployment_id },
        { header: 'message', value: (h) => h.message ?? h.reason },
      ])}`
    : head;
};

export async function deviceList(
  ctx: Ctx,
  productId: string,
  o: PageOptions & Pick<NonNullable<CallArgs<typeof listDevices>['query']>, 'prefix'> = {},
): Promise<{ items: DeviceView[]; cursor: string | null }> {
  const page = await listPages((cursor) => ctx.api.call(listDevices, { params: { productId }, query: { prefix: o.prefix, limit: o.limit, cursor } }), o);
  emit(ctx, page, (p) => renderDeviceList(p.items));
  morePages(ctx, page.cursor, `otactl device list --product ${productId}${o.prefix ? ` --prefix ${o.prefix}` : ''}`);
  return page;
}

export async function deviceGet(ctx: Ctx, productId: string, deviceId: string): Promise<DeviceView> {
  return emit(ctx, await ctx.api.call(getDevice, { params: { productId, deviceId } }), renderDevice);
}

export interface DevicePatchOptions {
  readonly active?: boolean;
  readonly channel?: string;
  readonly groups?: readonly string[];
  readonly tags?: Record<string, string>;
}

export function patchBody(o: DevicePatchOptions): CallArgs<typeof patchDevice>['body'] {
  const body = {
    ...(o.active !== undefined ? { active: o.active } : {}),
    ...(o.channel !== undefined ? { channel: o.channel } : {}),
    ...(o.groups !== undefined ? { groups: [...o.groups] } : {}),
    ...(o.tags !== undefined ? { tags: o.tags } : {}),
  };
  if (!Object.keys(body).length) throw new UsageError('nothing to change: give --active, --channel, --groups or --tag');
  return body;
}

export async function devicePatch(ctx: Ctx, productId: string, deviceId: string, o: DevicePatchOptions): Promise<DeviceView> {
  return emit(ctx, await ctx.api.call(patchDevice, { params: { productId, deviceId }, body: patchBody(o) }), renderDevice);
}

export async function deviceToken(ctx: Ctx, productId: string, deviceId: string): Promise<SuccessBody<typeof issueDeviceToken>> {
  const r = await ctx.api.call(issueDeviceToken, { params: { productId, deviceId } });
  return emit(ctx, r, (x) =>
    keyValues([
      ['device', x.device_id],
      ['token', x.token],
      ['note', 'shown once; only its hash is stored'],
    ]),
  );
}

export async function deviceAssign(ctx: Ctx, productId: string, deviceId: string, o: { build: number; replace?: boolean }): Promise<AssignmentView> {
  const body = { build: o.build, ...(o.replace ? { replace: true } : {}) };
  return emit(ctx, await ctx.api.call(assignBuild, { params: { productId, deviceId }, body }), renderAssignment);
}

export async function deviceAssignment(ctx: Ctx, productId: string, deviceId: string): Promise<AssignmentView> {
  return emit(ctx, await ctx.api.call(getAssignment, { params: { productId, deviceId } }), renderAssignment);
}

export async function deviceUnassign(ctx: Ctx, productId: string, deviceId: string): Promise<SuccessBody<typeof cancelAssignment>> {
  return emit(ctx, await ctx.api.call(cancelAssignment, { params: { productId, deviceId } }), () => `assignment of ${deviceId} cancelled\n`);
}
