/** `otactl product put|get|rotate-key|retire-previous-key` (PUT/GET /admin/v1/products/{p}, POST …/key, DELETE …/key/previous). */
import { readFileSync } from 'node:fs';
import { CHIPS } from '../../../lambdas/core/model';
import { BINDINGS } from '../../../lambdas/protocols/registry';
import { adminPath } from '../api';
import { emit, type Ctx } from '../context';
import { CliError, UsageError } from '../errors';
import { keyValues } from '../output';

export interface ProductPutOptions {
  readonly name?: string;
  readonly chip?: string;
  readonly firmwareType?: string;
  readonly securityMode?: string;
  readonly autoRegister?: boolean;
  readonly pollInterval?: number;
  readonly deviceQuota?: number;
  /** Protocol binding flags (each binding's `cli.flags`, camelCased by commander). */
  readonly [bindingFlag: string]: unknown;
  /** A JSON file with a full/partial PUT body (snake_case); flags override it. */
  readonly file?: string;
  /** Start from the product's current settings (PUT replaces the whole product). */
  readonly merge?: boolean;
}

type Body = Record<string, unknown> & { protocols?: Record<string, unknown> };

/** The PUT body equivalent of a GET answer, so `--merge` changes only what the flags name. */
export function putBodyOf(p: any): Body {
  // The product view's `protocols` is what the PUT takes (lambdas/protocols/*/index.ts `present`).
  const protocols: Record<string, unknown> = { ...(p.protocols ?? {}) };
  return {
    name: p.name,
    chip: p.chip,
    ...(p.firmware_type ? { firmware_type: p.firmware_type } : {}),
    auto_register: p.auto_register,
    security_mode: p.security_mode,
    poll_interval_s: p.poll_interval_s,
    ...(p.device_quota ? { device_quota: p.device_quota } : {}),
    ...(Object.keys(protocols).length ? { protocols } : {}),
  };
}

export function productBody(base: Body, o: ProductPutOptions): Body {
  const body: Body = { ...base };
  if (o.name !== undefined) body.name = o.name;
  if (o.chip !== undefined) body.chip = o.chip;
  if (o.firmwareType !== undefined) body.firmware_type = o.firmwareType;
  if (o.securityMode !== undefined) body.security_mode = o.securityMode;
  if (o.autoRegister !== undefined) body.auto_register = o.autoRegister;
  if (o.pollInterval !== undefined) body.poll_interval_s = o.pollInterval;
  if (o.deviceQuota !== undefined) body.device_quota = o.deviceQuota;
  const protocols: Record<string, unknown> = { ...(body.protocols ?? {}) };
  for (const b of BINDINGS) {
    let wire: unknown;
    try {
      wire = b.cli.fromFlags(o as Readonly<Record<string, unknown>>);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (wire === null) delete protocols[b.key];
    else if (wire !== undefined) protocols[b.key] = wire;
  }
  if (Object.keys(protocols).length) body.protocols = protocols;
  else delete body.protocols;
  return body;
}

function readBodyFile(path: string): Body {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8'));
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Body;
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

export const renderProduct = (p: any): string =>
  keyValues([
    ['product', p.product_id],
    ['name', p.name],
    ['chip', p.chip],
    ['firmware type', p.firmware_type],
    ['security mode', p.security_mode],
    ['auto register', p.auto_register],
    ['device channel', p.device_selects_channel ? 'devices may select their channel' : undefined],
    ['poll interval', p.poll_interval_s !== undefined ? `${p.poll_interval_s} s` : undefined],
    ['device quota', p.device_quota],
    ['product key', p.product_key_set ? `set${p.previous_product_key_accepted ? ' (previous key still accepted)' : ''}` : 'none'],
    ['protocols', Object.keys(p.protocols ?? {})],
    ...BINDINGS.filter((b) => p.protocols?.[b.key] && b.key !== 'iotaap').map((b) => [b.key, b.cli.describe(p.protocols[b.key])] as const),
    ['created', p.created_at],
    ['updated', p.updated_at],
  ]);

export async function productPut(ctx: Ctx, productId: string, o: ProductPutOptions): Promise<any> {
  let base: Body = o.file ? readBodyFile(o.file) : {};
  if (o.merge) base = { ...putBodyOf(await ctx.api.request('GET', adminPath(productId))), ...base };
  const body = productBody(base, o);
  // PUT replaces the whole product: the API needs chip and security_mode. Say so before sending
  // (a security mode is never defaulted: re-putting a product must not quietly open it).
  const missing = [
    ...(body.chip === undefined ? [`--chip <${CHIPS.join('|')}>`] : []),
    ...(body.security_mode === undefined ? ['--security-mode <open|product_key|device_token>'] : []),
  ];
  if (missing.length) throw new UsageError(`product put needs ${missing.join(' and ')} (or --merge to keep the current settings)`);
  const p = await ctx.api.request('PUT', adminPath(productId), { body });
  return emit(ctx, p, renderProduct);
}

export async function productGet(ctx: Ctx, productId: string): Promise<any> {
  return emit(ctx, await ctx.api.request('GET', adminPath(productId)), renderProduct);
}

export async function productRotateKey(ctx: Ctx, productId: string): Promise<any> {
  const r = await ctx.api.request('POST', adminPath(productId, 'key'));
  return emit(ctx, r, (x: any) =>
    keyValues([
      ['product key', x.product_key],
      ['previous key', x.previous_key_accepted ? 'still accepted until `otactl product retire-previous-key`' : 'none'],
      ['note', 'shown once; only its hash is stored'],
    ]),
  );
}

export async function productRetirePreviousKey(ctx: Ctx, productId: string): Promise<any> {
  const r = await ctx.api.request('DELETE', adminPath(productId, 'key', 'previous'));
  return emit(ctx, r, () => `previous product key of ${productId} retired\n`);
}
