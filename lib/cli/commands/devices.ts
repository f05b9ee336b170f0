/**
 * `otactl device list|get|patch|token|assign|assignment|unassign` (…/devices routes). Device ids
 * (MACs: `AA:BB:CC:DD:EE:FF`) are percent-encoded into the path.
 */
import { adminPath } from '../api';
import { emit, type Ctx } from '../context';
import { UsageError } from '../errors';
import { keyValues, table } from '../output';
import { listPages, morePages, type PageOptions } from './firmware';

/** A status entry's status (`presentStatusEntry`: build_number, status, at, deployment_id?, message?, inferred?, reason?). */
const statusText = (e: any): string => `${e.status}${e.inferred ? ' (inferred)' : ''}`;

export const renderDeviceList = (items: any[]): string =>
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

export const renderAssignment = (a: any): string =>
  keyValues([
    ['assignment', a.assignment_id],
    ['build', `${a.build_number} (${a.version})`],
    ['state', a.state],
    ['assigned', a.assigned_at],
    ['updated', a.updated_at],
  ]);

export const renderDevice = (d: any): string => {
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
    ['tags', d.tags && Object.keys(d.tags).length ? Object.entries(d.tags).map(([k, v]) => `${k}=${v}`) : undefined],
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
  const history: any[] = d.history ?? [];
  return history.length
    ? `${head}\n${table(history, [
        { header: 'at', value: (h: any) => h.at },
        { header: 'status', value: (h: any) => statusText(h) },
        { header: 'build', value: (h: any) => h.build_number, right: true },
        { header: 'deployment', value: (h: any) => h.deployment_id },
        { header: 'message', value: (h: any) => h.message ?? h.reason },
      ])}`
    : head;
};

const path = (productId: string, ...rest: string[]) => adminPath(productId, 'devices', ...rest);

export async function deviceList(ctx: Ctx, productId: string, o: PageOptions & { prefix?: string } = {}): Promise<any> {
  const page = await listPages(ctx, path(productId), { prefix: o.prefix }, o);
  emit(ctx, page, (p) => renderDeviceList(p.items));
  morePages(ctx, page.cursor, `otactl device list --product ${productId}${o.prefix ? ` --prefix ${o.prefix}` : ''}`);
  return page;
}

export async function deviceGet(ctx: Ctx, productId: string, deviceId: string): Promise<any> {
  return emit(ctx, await ctx.api.request('GET', path(productId, deviceId)), renderDevice);
}

export interface DevicePatchOptions {
  readonly active?: boolean;
  readonly channel?: string;
  readonly groups?: readonly string[];
  readonly tags?: Record<string, string>;
}

export function patchBody(o: DevicePatchOptions): Record<string, unknown> {
  const body = {
    ...(o.active !== undefined ? { active: o.active } : {}),
    ...(o.channel !== undefined ? { channel: o.channel } : {}),
    ...(o.groups !== undefined ? { groups: [...o.groups] } : {}),
    ...(o.tags !== undefined ? { tags: o.tags } : {}),
  };
  if (!Object.keys(body).length) throw new UsageError('nothing to change: give --active, --channel, --groups or --tag');
  return body;
}

export async function devicePatch(ctx: Ctx, productId: string, deviceId: string, o: DevicePatchOptions): Promise<any> {
  return emit(ctx, await ctx.api.request('PATCH', path(productId, deviceId), { body: patchBody(o) }), renderDevice);
}

export async function deviceToken(ctx: Ctx, productId: string, deviceId: string): Promise<any> {
  const r = await ctx.api.request('POST', path(productId, deviceId, 'token'));
  return emit(ctx, r, (x: any) =>
    keyValues([
      ['device', x.device_id],
      ['token', x.token],
      ['note', 'shown once; only its hash is stored'],
    ]),
  );
}

export async function deviceAssign(ctx: Ctx, productId: string, deviceId: string, o: { build: number; replace?: boolean }): Promise<any> {
  const body = { build: o.build, ...(o.replace ? { replace: true } : {}) };
  return emit(ctx, await ctx.api.request('PUT', path(productId, deviceId, 'assignment'), { body }), renderAssignment);
}

export async function deviceAssignment(ctx: Ctx, productId: string, deviceId: string): Promise<any> {
  return emit(ctx, await ctx.api.request('GET', path(productId, deviceId, 'assignment')), renderAssignment);
}

export async function deviceUnassign(ctx: Ctx, productId: string, deviceId: string): Promise<any> {
  return emit(ctx, await ctx.api.request('DELETE', path(productId, deviceId, 'assignment')), () => `assignment of ${deviceId} cancelled\n`);
}
