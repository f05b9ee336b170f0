/** `otactl firmware list|get|release|revoke` (operations listFirmware, getFirmware, releaseFirmware, revokeFirmware). */
import type * as z from 'zod/mini';
import type { CallArgs } from '../../../lambdas/contract/client';
import {
  getFirmware,
  listFirmware,
  releaseFirmware,
  revokeFirmware,
  type Firmware,
  type ReleasedFirmware,
  type RevokedFirmware,
} from '../../../lambdas/contract/operator';
import { emit, type Ctx } from '../context';
import { formatBytes, keyValues, table } from '../output';

export interface PageOptions {
  readonly limit?: number;
  readonly cursor?: string;
  /** Follow cursors to the end. */
  readonly all?: boolean;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly cursor: string | null;
}

/** Fetches one page (`fetchPage(cursor)`), or every page with `all` (the result then has `cursor: null`). */
export async function listPages<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
  o: PageOptions,
): Promise<{ items: T[]; cursor: string | null }> {
  const items: T[] = [];
  let cursor: string | undefined = o.cursor;
  for (;;) {
    const page = await fetchPage(cursor);
    items.push(...page.items);
    cursor = page.cursor ?? undefined;
    if (!o.all || !cursor) return { items, cursor: cursor ?? null };
  }
}

/** Tells a human there is more (stderr: stdout stays the table). */
export function morePages(ctx: Ctx, cursor: string | null, command: string): void {
  if (cursor && !ctx.json) ctx.out.stderr.write(`more: ${command} --cursor '${cursor}' (or --all)\n`);
}

type FirmwareView = z.output<typeof Firmware>;
/** `firmware revoke` answers with the build and the deployments it paused. */
type FirmwareAnswer = FirmwareView & Partial<Pick<z.output<typeof RevokedFirmware>, 'paused_deployments'>>;

const appSize = (f: FirmwareView) => {
  const app = f.files.find((x) => x.role === 'app');
  return app ? formatBytes(app.size) : undefined;
};

export const renderFirmwareList = (items: readonly FirmwareView[]): string =>
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
function hwRange(c: FirmwareView['compatibility']): string | undefined {
  const min = c.hw_revision_min;
  const max = c.hw_revision_max;
  return min === null && max === null ? undefined : `${min ?? '*'}–${max ?? '*'}`;
}

export const renderFirmware = (f: FirmwareAnswer): string =>
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
    ['app', `${f.app.project_name} ${f.app.version} (IDF ${f.app.idf_version}, chip id ${f.app.chip_id})`],
    ['image hash', f.image_hash],
    ['secure version', f.app.secure_version],
    [
      'signature',
      f.signature
        ? `${f.signature.form}${f.signature.platform ? ' (platform)' : ''}, ${f.signature.algorithm}, key ${f.signature.key_ids.join(', ')}${f.signature.image_offset ? `, image at byte ${f.signature.image_offset}` : ''}`
        : 'unsigned',
    ],
    ['min version', f.compatibility.min_version],
    ['hw revision', hwRange(f.compatibility)],
    ['required step', f.compatibility.required_step || undefined],
    ['created', f.created_at],
    ['released', f.released_at],
    ['revoked', f.revoked_at],
    ...(f.paused_deployments?.length ? [['paused deployments', f.paused_deployments] as const] : []),
  ]) +
  '\n' +
  table(f.files, [
    { header: 'role', value: (x) => x.role },
    { header: 'name', value: (x) => x.name },
    { header: 'size', value: (x) => x.size, right: true },
    { header: 'sha256', value: (x) => x.sha256 },
    { header: 'crc32', value: (x) => x.crc32 },
  ]);

type FirmwareListQuery = NonNullable<CallArgs<typeof listFirmware>['query']>;

export async function firmwareList(
  ctx: Ctx,
  productId: string,
  o: PageOptions & Pick<FirmwareListQuery, 'state' | 'version'>,
): Promise<{ items: FirmwareView[]; cursor: string | null }> {
  const page = await listPages(
    (cursor) => ctx.api.call(listFirmware, { params: { productId }, query: { state: o.state, version: o.version, limit: o.limit, cursor } }),
    o,
  );
  emit(ctx, page, (p) => renderFirmwareList(p.items));
  morePages(ctx, page.cursor, `otactl firmware list --product ${productId}`);
  return page;
}

/** The build path parameter is a decimal string in the contract. */
const firmwareParams = (productId: string, build: number) => ({ productId, build: String(build) });

export async function firmwareGet(ctx: Ctx, productId: string, build: number): Promise<FirmwareView> {
  return emit(ctx, await ctx.api.call(getFirmware, { params: firmwareParams(productId, build) }), renderFirmware);
}

export async function firmwareRelease(ctx: Ctx, productId: string, build: number): Promise<z.output<typeof ReleasedFirmware>> {
  const r = await ctx.api.call(releaseFirmware, { params: firmwareParams(productId, build) });
  // Warnings go to stderr too, so a CI log shows them even with --json.
  for (const w of r.warnings) ctx.out.stderr.write(`warning: ${w}\n`);
  return emit(ctx, r, renderFirmware);
}

export async function firmwareRevoke(ctx: Ctx, productId: string, build: number): Promise<z.output<typeof RevokedFirmware>> {
  return emit(ctx, await ctx.api.call(revokeFirmware, { params: firmwareParams(productId, build) }), renderFirmware);
}
