/**
 * status — device progress/outcome reports: the native status route and Bota's heartbeat (which
 * also hands out the manifest of a pending assignment, so this function can sign URLs).
 * Business outcomes (unknown device, duplicate) answer 200 so devices never retry-storm.
 */
import { normalizeDeviceId } from '../core/device-id';
import { StatusRequestSchema } from '../core/native-api';
import { presentedSecret } from '../core/security';
import { botaHeartbeatRoutes } from '../protocols/bota';
import { routedHandler, type ProtocolRoutes } from '../protocols/types';
import { CheckService } from '../shared/check-service';
import { json, parseJsonBody, validate, type HttpEvent } from '../shared/http';
import { createLogger } from '../shared/logger';
import { StatusService } from '../shared/status-service';
import { urlSignerFromEnv } from '../shared/url-signer';
import { catalogStore, deploymentStore, deviceStore, lastSeenWriteIntervalMs, productConfigCache } from '../shared/wiring';

const logger = createLogger('status');
const catalog = catalogStore();
const deployments = deploymentStore();
const devices = deviceStore();
const config = productConfigCache(catalog, deployments);
const signer = urlSignerFromEnv();
const statuses = new StatusService({ config, catalog, deployments, devices });
const checks = new CheckService({ config, deployments, devices, signer, lastSeenWriteIntervalMs: lastSeenWriteIntervalMs() });

const routes: ProtocolRoutes = {
  'POST /api/v1/ota/status': {
    async handle(event: HttpEvent) {
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
      return json(200, {
        ok: result === 'recorded' || result === 'duplicate',
        result,
        ...(deploymentId ? { deployment_id: deploymentId } : {}),
        // Whether this report settled (or advanced) the device's open offer on its deployment: false = history only.
        ...(counted !== undefined ? { counted } : {}),
      });
    },
  },
  ...botaHeartbeatRoutes({ checks, config, devices, signer, logger, statuses }),
};

export const handler = routedHandler(logger, 'status', routes);

export const STATUS_ROUTE_KEYS = Object.keys(routes);
