/**
 * check — device update checks for every device protocol (issue 2: the native API).
 * Thin: parse → CheckService → shape the protocol's response.
 */
import { normalizeDeviceId } from '../core/device-id';
import { CheckRequestSchema, nativeCheckResponse } from '../core/native-api';
import { CheckService } from '../shared/check-service';
import { httpHandler, json, parseJsonBody, validate } from '../shared/http';
import { createLogger } from '../shared/logger';
import { urlSignerFromEnv } from '../shared/url-signer';
import { catalogStore, deploymentStore, deviceStore, lastSeenWriteIntervalMs, productConfigCache } from '../shared/wiring';

const logger = createLogger('check');
const deployments = deploymentStore();
const checks = new CheckService({
  config: productConfigCache(catalogStore(), deployments),
  deployments,
  devices: deviceStore(),
  signer: urlSignerFromEnv(),
  lastSeenWriteIntervalMs: lastSeenWriteIntervalMs(),
});

export const handler = httpHandler(logger, async (event) => {
  const req = validate(CheckRequestSchema, parseJsonBody(event));
  const deviceId = normalizeDeviceId(req.device_id);
  logger.appendKeys({ productId: req.product, deviceId });
  const result = await checks.check(req.product, {
    deviceId,
    version: req.version,
    build: req.build,
    hw: { board: req.hw?.board, chip: req.hw?.chip, revision: req.hw?.revision === undefined ? undefined : String(req.hw.revision) },
    channel: req.channel,
  });
  const d = result.decision;
  logger.info('check', {
    status: d.status,
    ...(d.status === 'update_available' ? { deploymentId: d.offer.deploymentId, assignmentId: d.offer.assignmentId, build: d.offer.build } : {}),
    ...(d.status === 'no_update' ? { reason: d.reason } : {}),
  });
  return json(200, nativeCheckResponse(d, result.nextCheckS, result.offer));
});
