/**
 * The native device API (SimpleOTA-shaped): `POST /api/v1/ota/check` asks whether an update is
 * available, `POST /api/v1/ota/status` reports progress and outcome. Business outcomes answer 200
 * so devices never retry-storm.
 */
import { normalizeDeviceId } from '../../core/device-id';
import { presentedSecret } from '../../core/security';
import type { CheckService } from '../../shared/check-service';
import { json, parseJsonBody, validate } from '../../shared/http';
import type { Logger } from '../../shared/logger';
import type { Implementations } from '../../shared/operations';
import type { StatusService } from '../../shared/status-service';
import type { nativeCheck, nativeStatus } from './contract';
import { CheckRequestSchema, nativeCheckResponse, StatusRequestSchema } from './wire';

export function nativeCheckRoutes(deps: { readonly checks: CheckService; readonly logger: Logger }): Implementations<typeof nativeCheck> {
  const { checks, logger } = deps;
  return {
    nativeCheck: async ({ event }) => {
      const req = validate(CheckRequestSchema, parseJsonBody(event));
      const deviceId = normalizeDeviceId(req.device_id);
      logger.appendKeys({ productId: req.product, deviceId });
      const hw = { board: req.hw?.board, chip: req.hw?.chip, revision: req.hw?.revision === undefined ? undefined : String(req.hw.revision) };
      const result = await checks.check(
        req.product,
        { deviceId, version: req.version, build: req.build, hw, channel: req.channel, secureVersion: req.secure_version },
        { credential: presentedSecret(event.headers ?? {}, req.token) },
      );
      const d = result.decision;
      // A steady-state "no update" is the bulk of traffic: debug level, so a large fleet does not pay log ingestion per poll (metrics still count it).
      (d.status === 'no_update' ? logger.debug : logger.info).call(logger, 'check', {
        status: d.status,
        ...(d.status === 'update_available' ? { deploymentId: d.offer.deploymentId, assignmentId: d.offer.assignmentId, build: d.offer.build } : {}),
        ...(d.status === 'no_update' ? { reason: d.reason } : {}),
      });
      return json(200, nativeCheckResponse(d, result.nextCheckS, result.offer));
    },
  };
}

export function nativeStatusRoutes(deps: { readonly statuses: StatusService; readonly logger: Logger }): Implementations<typeof nativeStatus> {
  const { statuses, logger } = deps;
  return {
    nativeStatus: async ({ event, reply }) => {
      const req = validate(StatusRequestSchema, parseJsonBody(event));
      const deviceId = normalizeDeviceId(req.device_id);
      logger.appendKeys({ productId: req.product, deviceId, build: req.build_number });
      const { result, deploymentId, counted } = await statuses.report(req.product, {
        deviceId,
        build: req.build_number,
        status: req.status,
        deploymentId: req.deployment_id,
        message: req.message,
        credential: presentedSecret(event.headers ?? {}, req.token),
      });
      logger.info('status report', { status: req.status, result, deploymentId, counted });
      return reply(200, {
        ok: result === 'recorded' || result === 'duplicate',
        result,
        ...(deploymentId ? { deployment_id: deploymentId } : {}),
        // Whether this report settled (or advanced) the device's open offer on its deployment: false = history only.
        ...(counted !== undefined ? { counted } : {}),
      });
    },
  };
}
