/**
 * check — update checks for every device protocol. Thin: the route key picks the protocol
 * adapter (parse → CheckService → shape the protocol's response); errors are shaped by the
 * adapter where its protocol documents its own bodies, else by the shared mapping.
 */
import { normalizeDeviceId } from '../core/device-id';
import { CheckRequestSchema, nativeCheckResponse } from '../core/native-api';
import { presentedSecret } from '../core/security';
import { arduinoRoutes } from '../protocols/arduino';
import { botaReleaseRoutes } from '../protocols/bota';
import { cheekoRoutes } from '../protocols/cheeko';
import { fireflyRoutes } from '../protocols/firefly';
import { iotaapRoutes } from '../protocols/iotaap';
import { routedHandler, type ProtocolDeps, type ProtocolRoutes } from '../protocols/types';
import { CheckService } from '../shared/check-service';
import { json, parseJsonBody, validate, type HttpEvent } from '../shared/http';
import { createLogger } from '../shared/logger';
import { urlSignerFromEnv } from '../shared/url-signer';
import { catalogStore, deploymentStore, deviceStore, lastSeenWriteIntervalMs, productConfigCache } from '../shared/wiring';

const logger = createLogger('check');
const deployments = deploymentStore();
const devices = deviceStore();
const config = productConfigCache(catalogStore(), deployments);
const signer = urlSignerFromEnv();
const checks = new CheckService({ config, deployments, devices, signer, lastSeenWriteIntervalMs: lastSeenWriteIntervalMs() });
const deps: ProtocolDeps = { checks, config, devices, signer, logger };

const native: ProtocolRoutes = {
  'POST /api/v1/ota/check': {
    async handle(event: HttpEvent) {
      const req = validate(CheckRequestSchema, parseJsonBody(event));
      const deviceId = normalizeDeviceId(req.device_id);
      logger.appendKeys({ productId: req.product, deviceId });
      const hw = { board: req.hw?.board, chip: req.hw?.chip, revision: req.hw?.revision === undefined ? undefined : String(req.hw.revision) };
      const result = await checks.check(
        req.product,
        { deviceId, version: req.version, build: req.build, hw, channel: req.channel },
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
  },
};

const routes: ProtocolRoutes = {
  ...native,
  ...fireflyRoutes(deps),
  ...arduinoRoutes(deps),
  ...cheekoRoutes(deps),
  ...iotaapRoutes(deps),
  ...botaReleaseRoutes(deps),
};

export const handler = routedHandler(logger, 'check', routes);

/** Route keys this function serves (a test checks them against the route table). */
export const CHECK_ROUTE_KEYS = Object.keys(routes);
