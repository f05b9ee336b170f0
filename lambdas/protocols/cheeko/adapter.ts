/**
 * Cheeko toy OTA, exactly as the seed documents it:
 * - `POST /toy/ota/` registers or updates the device and answers the raw payload
 *   `{ device, firmware | null, serverTime }`; missing/invalid MAC → 400 `{ code, msg }`;
 *   an internal error → 200 `{ "error": … }`.
 * - `GET /toy/ota/?type=` → `{ code: 0, msg: "success", data: { status, latestVersions, serverTime } }`.
 * Product mapping: the body's (or query's) `application` names a product bound to it; requests
 * without one go to the product bound as the Cheeko default.
 */
import { DomainError, isDomainError } from '../../core/errors';
import { presentedSecret } from '../../core/security';
import { compareVersions, isValidVersion } from '../../core/version';
import { header, json, parseJsonBody, retryAfterSeconds } from '../../shared/http';
import { countMaskedFault } from '../../shared/metrics';
import type { Implementations } from '../../shared/operations';
import type { ProtocolDeps } from '../types';
import type { cheekoCheck, cheekoStatus } from './contract';
import { cheekoAlias } from './index';
import { CHEEKO_DEFAULT_BOARDS, cheekoApplication, cheekoFirmware, latestVersionsByBoard, parseCheekoBody, resolveCheekoMac, serverTime } from './wire';

export function cheekoRoutes(deps: ProtocolDeps): Implementations<typeof cheekoCheck | typeof cheekoStatus> {
  const productFor = (raw: unknown) => {
    const application = cheekoApplication(raw);
    return application
      ? deps.config.productByAlias(cheekoAlias(application)).then((p) => p ?? deps.config.productByAlias(cheekoAlias(undefined)))
      : deps.config.productByAlias(cheekoAlias(undefined));
  };

  return {
    cheekoCheck: {
      async handle({ event }) {
        let raw: Record<string, unknown>;
        try {
          raw = parseJsonBody(event, { allowEmpty: true });
        } catch {
          raw = {};
        }
        const body = parseCheekoBody(raw);
        const mac = resolveCheekoMac(header(event, 'device-id'), {
          mac: typeof raw.mac === 'string' ? raw.mac : undefined,
          mac_address: typeof raw.mac_address === 'string' ? raw.mac_address : undefined,
        });
        if ('error' in mac) return json(400, mac.error);
        // A version that is sent must be one (400 `{ code, msg }`, nothing written); an absent, null or empty one is allowed.
        const v = raw.version;
        if (v !== undefined && v !== null && v !== '' && (typeof v !== 'string' || !isValidVersion(v))) {
          throw new DomainError('invalid', 'invalid_version', 'version is not a valid firmware version');
        }

        const now = Date.now();
        const product = await productFor(body.application);
        const reply = (device: { currentVersion?: string; board?: string; autoUpdate?: boolean }, firmware: unknown) =>
          json(200, {
            // What the device reports first: `device` is the item as read BEFORE this check, so preferring
            // it echoed the previous version/board after an update (seed: "Version reported by device").
            device: {
              mac: mac.mac,
              currentVersion: body.version ?? device.currentVersion ?? '',
              board: body.board ?? device.board ?? '',
              autoUpdate: device.autoUpdate ?? true,
            },
            firmware,
            serverTime: serverTime(now),
          });
        if (!product) return reply({}, null);

        const info: Record<string, string | number> = {};
        if (body.flash_size !== undefined) info.flash_size = body.flash_size;
        if (body.chip_model_name) info.chip_model_name = body.chip_model_name;
        if (body.chip_info) info.chip_info = body.chip_info;
        if (body.application) info.application = body.application;
        const r = await deps.checks.check(
          product.productId,
          {
            deviceId: mac.mac,
            version: body.version,
            hw: { board: body.board }, // chip_model_name is free text ("ESP32-S3 (QFN56)"): kept as info, not matched
            ...(Object.keys(info).length ? { info } : {}),
          },
          { credential: presentedSecret(event.headers ?? {}, body.token) },
        );
        if (r.decision.status !== 'update_available' || !r.offer) return reply(r.device ?? {}, null);
        return reply(r.device ?? {}, cheekoFirmware(product.productId, r.decision.offer.firmware, r.offer.appUrl, r.offer.app.size, r.decision.offer.force));
      },
      // The seed's contract: internal errors are 200 `{ "error": … }` (its devices treat non-200 as fatal);
      // still a fault: Retry-After, and counted since API Gateway's 5xx metric cannot see it.
      onError: (e) => {
        if (isDomainError(e)) return json(400, { code: 400, msg: e.message });
        countMaskedFault('POST /toy/ota');
        return json(200, { error: 'Internal server error' }, { 'retry-after': String(retryAfterSeconds()) });
      },
    },

    cheekoStatus: {
      async handle({ event }) {
        const q = event.queryStringParameters ?? {};
        const type = q.type?.trim() || undefined;
        const now = Date.now();
        const product = await productFor(q.application);
        let latestVersions: Record<string, { version: string; forceUpdate: boolean }> = {};
        if (product) {
          const released = await deps.config.releasedFirmware(product.productId);
          latestVersions = latestVersionsByBoard(released, product.chip, type, compareVersions);
          if (!type) {
            // The seed lists its three boards; builds may name more.
            const known = new Set([...CHEEKO_DEFAULT_BOARDS, ...released.flatMap((f) => f.boards ?? [product.chip])]);
            latestVersions = Object.fromEntries(Object.entries(latestVersions).filter(([b]) => known.has(b)));
          }
        }
        return json(200, { code: 0, msg: 'success', data: { status: 'online', latestVersions, serverTime: now } });
      },
      onError: (e) => (isDomainError(e) ? json(400, { code: 400, msg: e.message }) : undefined),
    },
  };
}
