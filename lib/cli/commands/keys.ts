/** `otactl key add|list|revoke` (operations addSigningKey, listSigningKeys, revokeSigningKey): the public keys a product trusts to sign its builds. */
import { readFileSync } from 'node:fs';
import type * as z from 'zod/mini';
import { addSigningKey, listSigningKeys, revokeSigningKey, type RevokedSigningKey, type SigningKey } from '../../../lambdas/contract/operator';
import { emit, type Ctx } from '../context';
import { CliError } from '../errors';
import { keyValues, table } from '../output';

type KeyView = z.output<typeof SigningKey>;

export const renderKey = (k: KeyView & { paused_deployments?: readonly string[] }): string =>
  keyValues([
    ['key id', k.key_id],
    ['algorithm', k.algorithm],
    ['name', k.name],
    ['origin', k.origin],
    ['state', k.state],
    ['added', k.added_at],
    ['revoked', k.revoked_at],
    ...(k.paused_deployments ? [['paused deployments', k.paused_deployments.length ? k.paused_deployments : 'none'] as const] : []),
  ]);

export const renderKeyList = (items: readonly KeyView[]): string =>
  items.length === 0
    ? 'no signing keys\n'
    : table(items, [
        { header: 'key id', value: (k) => k.key_id },
        { header: 'algorithm', value: (k) => k.algorithm },
        { header: 'state', value: (k) => k.state },
        { header: 'origin', value: (k) => k.origin },
        { header: 'name', value: (k) => k.name },
        { header: 'added', value: (k) => k.added_at },
      ]);

export async function keyAdd(ctx: Ctx, productId: string, o: { file: string; name?: string }): Promise<KeyView> {
  let publicKey: string;
  try {
    publicKey = readFileSync(o.file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${o.file}: ${(e as Error).message}`);
  }
  const body = { public_key: publicKey, ...(o.name ? { name: o.name } : {}) };
  return emit(ctx, await ctx.api.call(addSigningKey, { params: { productId }, body }), renderKey);
}

export async function keyList(ctx: Ctx, productId: string): Promise<{ items: KeyView[] }> {
  return emit(ctx, await ctx.api.call(listSigningKeys, { params: { productId } }), (r) => renderKeyList(r.items));
}

export async function keyRevoke(ctx: Ctx, productId: string, keyId: string): Promise<z.output<typeof RevokedSigningKey>> {
  return emit(ctx, await ctx.api.call(revokeSigningKey, { params: { productId, keyId } }), renderKey);
}
