/**
 * status — device progress/outcome reports: the native status route and Bota's heartbeat (which
 * also hands out the manifest of a pending assignment, so this function can sign URLs).
 * Business outcomes (unknown device, duplicate) answer 200 so devices never retry-storm.
 */
import type { OperationsOf } from '../contract';
import { botaHeartbeatRoutes } from '../protocols/bota/adapter';
import { botaHeartbeat } from '../protocols/bota/contract';
import { nativeStatusRoutes } from '../protocols/native/adapter';
import { nativeStatus } from '../protocols/native/contract';
import { CheckService } from '../shared/check-service';
import { createLogger } from '../shared/logger';
import { flushMetrics } from '../shared/metrics';
import { operationsHandler, routeKeysOf, servedOperations, type Implementations } from '../shared/operations';
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

const implementations: Implementations<OperationsOf<'status'>> = {
  ...nativeStatusRoutes({ statuses, logger }),
  ...botaHeartbeatRoutes({ checks, config, devices, signer, logger, statuses }),
};

const OPERATIONS = servedOperations('status', [nativeStatus, botaHeartbeat]);

export const handler = operationsHandler(logger, OPERATIONS, implementations, { flush: flushMetrics });

export const STATUS_ROUTE_KEYS = routeKeysOf(OPERATIONS);
