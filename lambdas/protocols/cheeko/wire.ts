/**
 * Cheeko toy OTA (`/toy/ota/`): MAC resolution, request schema and the exact response shapes of
 * the seed (raw payloads, no envelope on POST; `{ code, msg, data }` on GET).
 */
import * as z from 'zod/mini';
import { isMacAddress, normalizeDeviceId } from '../../core/device-id';
import type { OfferedBuild } from '../../core/model';

export const CHEEKO_MISSING_MAC = { code: 400, msg: 'Device ID is required (Device-Id header, or mac / mac_address in the body)' } as const;
export const CHEEKO_INVALID_MAC = { code: 400, msg: 'Invalid device ID format' } as const;

/** Body fields; all optional, extra fields ignored (devices send more, e.g. `ota`). */
export const CheekoBodySchema = z.object({
  mac: z.optional(z.string().check(z.maxLength(64))),
  mac_address: z.optional(z.string().check(z.maxLength(64))),
  version: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  board: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  flash_size: z.optional(z.number().check(z.gte(0), z.lte(2 ** 40))),
  chip_model_name: z.optional(z.string().check(z.maxLength(64))),
  chip_info: z.optional(z.string().check(z.maxLength(128))),
  application: z.optional(z.string().check(z.maxLength(64))),
  token: z.optional(z.string().check(z.maxLength(256))),
});
export type CheekoBody = z.infer<typeof CheekoBodySchema>;

/**
 * The body's fields that validate. One malformed optional field (e.g. `flash_size: "8MB"`) must not
 * cost the device its version, board and application, as rejecting the whole object did.
 */
export function parseCheekoBody(raw: Record<string, unknown>): CheekoBody {
  const whole = CheekoBodySchema.safeParse(raw);
  if (whole.success) return whole.data;
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(CheekoBodySchema.shape)) {
    const r = schema.safeParse(raw[key]);
    if (r.success && r.data !== undefined) out[key] = r.data;
  }
  return out as CheekoBody;
}

/**
 * A usable `application` (body or query): a non-empty string within the schema's 64 characters.
 * Anything else selects the default product; an overlong one used to reach DynamoDB as an alias
 * key and fail there (GET /toy/ota/?application=<3000 chars> answered 503).
 */
export function cheekoApplication(v: unknown): string | undefined {
  const s = typeof v === 'string' ? v.trim() : '';
  return s && s.length <= 64 ? s : undefined;
}

/** `Device-Id` header first, then body `mac`, then `mac_address`. */
export function resolveCheekoMac(
  headerValue: string | undefined,
  body: { mac?: string; mac_address?: string },
): { mac: string } | { error: typeof CHEEKO_MISSING_MAC | typeof CHEEKO_INVALID_MAC } {
  const raw = headerValue?.trim() || body.mac?.trim() || body.mac_address?.trim();
  if (!raw) return { error: CHEEKO_MISSING_MAC };
  if (!isMacAddress(raw)) return { error: CHEEKO_INVALID_MAC };
  return { mac: normalizeDeviceId(raw) };
}

export const serverTime = (nowMs: number) => ({ timestamp: nowMs, timezone: 'UTC', offset: 0 });

export function cheekoFirmware(productId: string, fw: OfferedBuild, url: string, size: number, force = false) {
  return { version: fw.version, url, size, force: force || fw.force ? 1 : 0, name: `${productId}-${fw.version}`, remark: fw.notes ?? '' };
}

/** The board types the GET status lists when no `type` is given (the seed's three), plus any a build names. */
export const CHEEKO_DEFAULT_BOARDS = ['esp32', 'esp32s3', 'esp32c3'];

/** Latest RELEASED version per board (`boards` absent = the product's chip); boards without firmware are omitted. */
export function latestVersionsByBoard(
  released: readonly { version: string; boards?: readonly string[]; force?: boolean }[],
  productChip: string,
  onlyBoard: string | undefined,
  compare: (a: string, b: string) => number,
): Record<string, { version: string; forceUpdate: boolean }> {
  const out: Record<string, { version: string; forceUpdate: boolean }> = {};
  for (const fw of released) {
    for (const board of fw.boards?.length ? fw.boards : [productChip]) {
      if (onlyBoard !== undefined && board.toLowerCase() !== onlyBoard.toLowerCase()) continue;
      const seen = out[board];
      if (!seen || compare(fw.version, seen.version) > 0) out[board] = { version: fw.version, forceUpdate: Boolean(fw.force) };
    }
  }
  return out;
}
