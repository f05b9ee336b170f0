/**
 * status — device progress/outcome reports (issue 2: the native API).
 * Business outcomes (unknown device, duplicate) answer 200 so devices never retry-storm.
 */
import { normalizeDeviceId } from '../core/device-id';
import { StatusRequestSchema } from '../core/native-api';
import { httpHandler, json, parseJsonBody, validate } from '../shared/http';
import { createLogger } from '../shared/logger';
import { StatusService } from '../shared/status-service';
import { catalogStore, deploymentStore, deviceStore, productConfigCache } from '../shared/wiring';

const logger = createLogger('status');
const catalog = catalogStore();
const deployments = deploymentStore();
const statuses = new StatusService({ config: productConfigCache(catalog, deployments), catalog, deployments, devices: deviceStore() });

export const handler = httpHandler(logger, async (event) => {
  const req = validate(StatusRequestSchema, parseJsonBody(event));
  const deviceId = normalizeDeviceId(req.device_id);
  logger.appendKeys({ productId: req.product, deviceId, build: req.build_number });
  const { result, deploymentId } = await statuses.report(req.product, {
    deviceId,
    build: req.build_number,
    status: req.status,
    deploymentId: req.deployment_id,
    message: req.message,
  });
  logger.info('status report', { status: req.status, result, deploymentId });
  return json(200, { ok: result === 'recorded' || result === 'duplicate', result, ...(deploymentId ? { deployment_id: deploymentId } : {}) });
});
