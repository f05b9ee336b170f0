/** `otactl product put|get|rotate-key|retire-previous-key` (operations putProduct, getProduct, rotateProductKey, retirePreviousProductKey). */
import { readFileSync } from 'node:fs';
import type * as z from 'zod/mini';
import type { CallArgs, SuccessBody } from '../../../lambdas/contract/client';
import { getProduct, putProduct, retirePreviousProductKey, rotateProductKey, type Product } from '../../../lambdas/contract/operator';
import { CHIPS } from '../../../lambdas/core/model';
import { BINDINGS } from '../../../lambdas/protocols/registry';
import { emit, type Ctx } from '../context';
import { CliError, UsageError } from '../errors';
import { keyValues } from '../output';

type PutBody = CallArgs<typeof putProduct>['body'];
type ProductView = z.output<typeof Product>;

export interface ProductPutOptions {
  readonly name?: string;
  readonly chip?: string;
  readonly firmwareType?: string;
  readonly securityMode?: PutBody['security_mode'];
  readonly autoRegister?: boolean;
  readonly pollInterval?: number;
  readonly deviceQuota?: number;
  readonly signing?: PutBody['signing'];
  readonly platformSigning?: boolean;
  /** Protocol binding flags (each binding's `cli.flags`, camelCased by commander). */
  readonly [bindingFlag: string]: unknown;
  /** A JSON file with a full/partial PUT body (snake_case); flags override it. */
  readonly file?: string;
  /** Start from the product's current settings (PUT replaces the whole product). */
  readonly merge?: boolean;
}

/** A PUT body being assembled from a --file, the current product and flags (the API checks it, strictly). */
type Body = Partial<PutBody>;

/** The PUT body equivalent of a GET answer, so `--merge` changes only what the flags name. */
export function putBodyOf(p: ProductView): Body {
  // The product view's `protocols` is what the PUT takes (lambdas/protocols/*/index.ts `present`).
  const protocols: Record<string, unknown> = { ...p.protocols };
  // Every PUT field is named (tsc says when one is added): a field left out would be reset by the PUT.
  const body: { [K in keyof Required<PutBody>]: PutBody[K] | undefined } = {
    name: p.name,
    chip: p.chip,
    firmware_type: p.firmware_type ?? undefined,
    auto_register: p.auto_register,
    security_mode: p.security_mode,
    poll_interval_s: p.poll_interval_s,
    device_quota: p.device_quota ?? undefined,
    device_selects_channel: p.device_selects_channel,
    max_image_size: p.max_image_size,
    signing: p.signing,
    platform_signing: p.platform_signing || undefined,
    protocols: Object.keys(protocols).length ? protocols : undefined,
  };
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as Body;
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
  if (o.signing !== undefined) body.signing = o.signing;
  if (o.platformSigning !== undefined) body.platform_signing = o.platformSigning;
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

export const renderProduct = (p: ProductView): string =>
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
    ['signing', `${p.signing}${p.platform_signing ? ' + platform signing (KMS)' : ''}`],
    ['product key', p.product_key_set ? `set${p.previous_product_key_accepted ? ' (previous key still accepted)' : ''}` : 'none'],
    ['protocols', Object.keys(p.protocols)],
    ...BINDINGS.filter((b) => p.protocols[b.key] && b.key !== 'iotaap').map((b) => [b.key, b.cli.describe(p.protocols[b.key])] as const),
    ['created', p.created_at],
    ['updated', p.updated_at],
  ]);

export async function productPut(ctx: Ctx, productId: string, o: ProductPutOptions): Promise<ProductView> {
  let base: Body = o.file ? readBodyFile(o.file) : {};
  if (o.merge) base = { ...putBodyOf(await ctx.api.call(getProduct, { params: { productId } })), ...base };
  const body = productBody(base, o);
  // PUT replaces the whole product: the API needs chip and security_mode. Say so before sending
  // (a security mode is never defaulted: re-putting a product must not quietly open it).
  const { chip, security_mode } = body;
  if (chip === undefined || security_mode === undefined) {
    const missing = [
      ...(chip === undefined ? [`--chip <${CHIPS.join('|')}>`] : []),
      ...(security_mode === undefined ? ['--security-mode <open|product_key|device_token>'] : []),
    ];
    throw new UsageError(`product put needs ${missing.join(' and ')} (or --merge to keep the current settings)`);
  }
  const p = await ctx.api.call(putProduct, { params: { productId }, body: { ...body, chip, security_mode } });
  return emit(ctx, p, renderProduct);
}

export async function productGet(ctx: Ctx, productId: string): Promise<ProductView> {
  return emit(ctx, await ctx.api.call(getProduct, { params: { productId } }), renderProduct);
}

export async function productRotateKey(ctx: Ctx, productId: string): Promise<SuccessBody<typeof rotateProductKey>> {
  const r = await ctx.api.call(rotateProductKey, { params: { productId } });
  return emit(ctx, r, (x) =>
    keyValues([
      ['product key', x.product_key],
      ['previous key', x.previous_key_accepted ? 'still accepted until `otactl product retire-previous-key`' : 'none'],
      ['note', 'shown once; only its hash is stored'],
    ]),
  );
}

export async function productRetirePreviousKey(ctx: Ctx, productId: string): Promise<SuccessBody<typeof retirePreviousProductKey>> {
  const r = await ctx.api.call(retirePreviousProductKey, { params: { productId } });
  return emit(ctx, r, () => `previous product key of ${productId} retired\n`);
}
