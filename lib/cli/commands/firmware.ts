/** `otactl firmware list|get|release|revoke` (GET …/firmware, GET …/firmware/{build}, POST …/release, POST …/revoke). */
import { adminPath } from '../api';
import { emit, type Ctx } from '../context';
import { formatBytes, keyValues, table } from '../output';

export interface PageOptions {
  readonly limit?: number;
  readonly cursor?: string;
  /** Follow cursors to the end. */
  readonly all?: boolean;
}

/** Fetches one page, or every page with `all` (the result then has `cursor: null`). */
export async function listPages(
  ctx: Ctx,
  path: string,
  query: Record<string, string | number | undefined>,
  o: PageOptions,
): Promise<{ items: any[]; cursor: string | null }> {
  const items: any[] = [];
  let cursor: string | undefined = o.cursor;
  for (;;) {
    const page: { items: any[]; cursor?: string | null } = await ctx.api.request('GET', path, { query: { ...query, limit: o.limit, cursor } });
    items.push(...(page.items ?? []));
    cursor = page.cursor ?? undefined;
    if (!o.all || !cursor) return { items, cursor: cursor ?? null };
  }
}

/** Tells a human there is more (stderr: stdout stays the table). */
export function morePages(ctx: Ctx, cursor: string | null, command: string): void {
  if (cursor && !ctx.json) ctx.out.stderr.write(`more: ${command} --cursor '${cursor}' (or --all)\n`);
}

const appSize = (f: any) => {
  const app = (f.files ?? []).find((x: any) => x.role === 'app');
  return app ? formatBytes(app.size) : undefined;
};

export const renderFirmwareList = (items: any[]): string =>
  items.length === 0
    ? 'no firmware\n'
    : table(items, [
        { header: 'build', value: (f) => f.build_number, right: true },
        { header: 'version', value: (f) => f.version },
        { header: 'state', value: (f) => f.state },
        { header: 'channel', value: (f) => f.channel },
        { header: 'type', value: (f) => f.firmware_type },
        { header: 'app', value: appSize, right: true },
        { header: 'boards', value: (f) => f.boards },
        { header: 'created', value: (f) => f.created_at },
      ]);

/** `1–3`, `2–*`, or undefined when the build names no hardware revision range. */
function hwRange(c: any): string | undefined {
  const min = c?.hw_revision_min ?? null;
  const max = c?.hw_revision_max ?? null;
  return min === null && max === null ? undefined : `${min ?? '*'}–${max ?? '*'}`;
}

export const renderFirmware = (f: any): string =>
  keyValues([
    ['product', f.product_id],
    ['build', f.build_number],
    ['version', f.version],
    ['state', f.state],
    ['firmware type', f.firmware_type],
    ['channel', f.channel],
    ['boards', f.boards],
    ['force', f.force],
    ['notes', f.notes],
    ['app', f.app ? `${f.app.project_name} ${f.app.version} (IDF ${f.app.idf_version}, chip id ${f.app.chip_id})` : undefined],
    ['image hash', f.image_hash],
    ['min version', f.compatibility?.min_version],
    ['hw revision', hwRange(f.compatibility)],
    ['required step', f.compatibility?.required_step || undefined],
    ['created', f.created_at],
    ['released', f.released_at],
    ['revoked', f.revoked_at],
    ...(f.paused_deployments?.length ? [['paused deployments', f.paused_deployments] as const] : []),
  ]) +
  '\n' +
  table(f.files ?? [], [
    { header: 'role', value: (x: any) => x.role },
    { header: 'name', value: (x: any) => x.name },
    { header: 'size', value: (x: any) => x.size, right: true },
    { header: 'sha256', value: (x: any) => x.sha256 },
    { header: 'crc32', value: (x: any) => x.crc32 },
  ]);

export async function firmwareList(ctx: Ctx, productId: string, o: PageOptions & { state?: string; version?: string }): Promise<any> {
  const page = await listPages(ctx, adminPath(productId, 'firmware'), { state: o.state, version: o.version }, o);
  emit(ctx, page, (p) => renderFirmwareList(p.items));
  morePages(ctx, page.cursor, `otactl firmware list --product ${productId}`);
  return page;
}

export async function firmwareGet(ctx: Ctx, productId: string, build: number): Promise<any> {
  return emit(ctx, await ctx.api.request('GET', adminPath(productId, 'firmware', build)), renderFirmware);
}

export async function firmwareRelease(ctx: Ctx, productId: string, build: number): Promise<any> {
  return emit(ctx, await ctx.api.request('POST', adminPath(productId, 'firmware', build, 'release')), renderFirmware);
}

export async function firmwareRevoke(ctx: Ctx, productId: string, build: number): Promise<any> {
  return emit(ctx, await ctx.api.request('POST', adminPath(productId, 'firmware', build, 'revoke')), renderFirmware);
}
