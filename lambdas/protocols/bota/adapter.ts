/**
 * Bota.
 * - `POST /api/v1/devices/{device_id}/heartbeat` (status function): records the device's version;
 *   while an assignment is pending the response carries its OTA manifest (and the assignment
 *   becomes `delivered`); the device running the assigned version makes it `applied`; a reported
 *   OTA failure makes it `failed`. Assignments take precedence over deployments.
 * - `GET /api/v1/products/{productId}/releases/latest?current_version=&model=` (check function):
 *   whether a newer RELEASED build exists for that model, with signed `bin` and `ufw` URLs, for
 *   the phone app's Bluetooth path (no assignment needed).
 */
import { normalizeDeviceId, DEVICE_ID_PATTERN } from '../../core/device-id';
import { DomainError } from '../../core/errors';
import { authorizeDevice, presentedSecret } from '../../core/security';
import { compareVersions, isNewerVersion } from '../../core/version';
import { signOffer } from '../../shared/check-service';
import { json, parseJsonBody, validate } from '../../shared/http';
import type { Implementations } from '../../shared/operations';
import type { StatusService } from '../../shared/status-service';
import type { ProtocolDeps } from '../types';
import type { botaHeartbeat, botaLatestRelease } from './contract';
import { botaArtifact, HeartbeatSchema, ReleaseQuerySchema } from './wire';

export function botaReleaseRoutes(deps: ProtocolDeps): Implementations<typeof botaLatestRelease> {
  return {
    botaLatestRelease: {
      async handle({ event }) {
        const q = event.queryStringParameters ?? {};
        if (!q.current_version) throw new DomainError('invalid', 'missing_current_version', 'current_version query parameter is required');
        const query = validate(ReleaseQuerySchema, q);
        const productId = event.pathParameters?.productId ?? '';
        const product = await deps.config.product(productId);
        if (!product) return json(200, { status: 'unknown_product', update_available: false });
        // The app holds no per-device secret: open and product_key products only.
        if (!authorizeDevice(product, undefined, presentedSecret(event.headers ?? {}, query.token))) {
          return json(200, { status: 'unauthorized', update_available: false });
        }
        const model = query.model?.toLowerCase();
        const newer = (await deps.config.releasedFirmware(productId))
          .filter((f) => !model || !f.boards?.length || f.boards.some((b) => b.toLowerCase() === model))
          .filter((f) => isNewerVersion(f.version, query.current_version))
          .sort((a, b) => compareVersions(b.version, a.version) || b.build - a.build)[0];
        if (!newer) return json(200, { status: 'no_update', update_available: false, current_version: query.current_version });
        const signed = await signOffer(deps.signer, newer);
        return json(200, {
          status: 'update_available',
          update_available: true,
          version: newer.version,
          build_number: newer.build,
          notes: newer.notes ?? null,
          released_at: newer.releasedAt ?? null,
          bin: botaArtifact(signed.app, signed.appUrl, newer.detachedSignature),
          ufw: signed.ufw && signed.ufwUrl ? botaArtifact(signed.ufw, signed.ufwUrl) : null,
        });
      },
    },
  };
}

export function botaHeartbeatRoutes(deps: ProtocolDeps & { readonly statuses: StatusService }): Implementations<typeof botaHeartbeat> {
  return {
    botaHeartbeat: {
      async handle({ event }) {
        const rawId = event.pathParameters?.deviceId ?? '';
        if (!DEVICE_ID_PATTERN.test(rawId)) throw new DomainError('invalid', 'invalid_device_id', 'device_id is not valid');
        const deviceId = normalizeDeviceId(rawId);
        const hb = validate(HeartbeatSchema, parseJsonBody(event, { allowEmpty: false }));
        const credential = presentedSecret(event.headers ?? {}, hb.token);
        const serverTime = new Date().toISOString();

        // A failure report first, so the failed build is never handed out again in this very response.
        let device;
        if (hb.ota_status) {
          const before = await deps.devices.get(hb.product, deviceId, true);
          // The build last sent to the device: a delivered assignment's, else the last deployment offer.
          // An applied or failed assignment is history: it must not claim later failures (that would
          // mark the running build failed and re-offer the deployment build that did fail).
          const a = before?.assignment;
          const build = a?.state === 'delivered' ? a.build : before?.lastOffer?.build;
          if (build !== undefined) {
            await deps.statuses.report(hb.product, { deviceId, build, status: hb.ota_status, credential, ...(hb.ota_error ? { message: hb.ota_error } : {}) });
            device = await deps.devices.get(hb.product, deviceId, true); // read our own write
          }
        }
        const r = await deps.checks.check(
          hb.product,
          { deviceId, version: hb.firmware_version, hw: { board: hb.model } },
          { credential, ...(device ? { device } : {}) },
        );
        const known = r.decision.status === 'update_available' || r.decision.status === 'no_update';
        const ota =
          r.decision.status === 'update_available' && r.offer
            ? {
                version: r.decision.offer.firmware.version,
                build_number: r.decision.offer.build,
                ...botaArtifact(r.offer.app, r.offer.appUrl, r.decision.offer.firmware.detachedSignature),
                ...(r.decision.offer.assignmentId ? { assignment_id: r.decision.offer.assignmentId } : {}),
              }
            : null;
        return json(200, { ok: known, status: r.decision.status, server_time: serverTime, next_heartbeat_s: r.nextCheckS, ota });
      },
    },
  };
}
