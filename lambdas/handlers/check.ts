/**
 * check — update checks for every device protocol. Thin: the route key picks the operation, the
 * protocol's adapter implements it (parse → CheckService → shape the protocol's response); errors
 * are shaped by the adapter where its protocol documents its own bodies, else by the shared mapping.
 */
import type { OperationsOf } from '../contract';
import { arduinoRoutes } from '../protocols/arduino/adapter';
import { arduinoHttpUpdate } from '../protocols/arduino/contract';
import { botaReleaseRoutes } from '../protocols/bota/adapter';
import { botaLatestRelease } from '../protocols/bota/contract';
import { cheekoRoutes } from '../protocols/cheeko/adapter';
import { cheekoCheck, cheekoStatus } from '../protocols/cheeko/contract';
import { fireflyRoutes } from '../protocols/firefly/adapter';
import { fireflyManifest } from '../protocols/firefly/contract';
import { iotaapRoutes } from '../protocols/iotaap/adapter';
import { iotaapDownload, iotaapLatest } from '../protocols/iotaap/contract';
import { nativeCheckRoutes } from '../protocols/native/adapter';
import { nativeCheck } from '../protocols/native/contract';
import type { ProtocolDeps } from '../protocols/types';
import { CheckService } from '../shared/check-service';
import { createLogger } from '../shared/logger';
import { flushMetrics } from '../shared/metrics';
import { operationsHandler, routeKeysOf, servedOperations, type Implementations } from '../shared/operations';
import { urlSignerFromEnv } from '../shared/url-signer';
import { catalogStore, deploymentStore, deviceStore, lastSeenWriteIntervalMs, productConfigCache } from '../shared/wiring';

const logger = createLogger('check');
const deployments = deploymentStore();
const devices = deviceStore();
const config = productConfigCache(catalogStore(), deployments);
const signer = urlSignerFromEnv();
const checks = new CheckService({ config, deployments, devices, signer, lastSeenWriteIntervalMs: lastSeenWriteIntervalMs() });
const deps: ProtocolDeps = { checks, config, devices, signer, logger };

const implementations: Implementations<OperationsOf<'check'>> = {
  ...nativeCheckRoutes({ checks, logger }),
  ...fireflyRoutes(deps),
  ...arduinoRoutes(deps),
  ...cheekoRoutes(deps),
  ...iotaapRoutes(deps),
  ...botaReleaseRoutes(deps),
};

// The operations come from each protocol's own contract, not the whole contract (bundle size).
const OPERATIONS = servedOperations('check', [
  nativeCheck,
  fireflyManifest,
  arduinoHttpUpdate,
  cheekoCheck,
  cheekoStatus,
  iotaapLatest,
  iotaapDownload,
  botaLatestRelease,
]);

export const handler = operationsHandler(logger, OPERATIONS, implementations, { flush: flushMetrics });

/** Route keys this function serves (a test checks them against the route table). */
export const CHECK_ROUTE_KEYS = routeKeysOf(OPERATIONS);
