/** activation — Cheeko's activation check (lambdas/protocols/cheeko/activation-adapter.ts). */
import type { OperationsOf } from '../contract';
import { cheekoActivateRoutes } from '../protocols/cheeko/activation-adapter';
import { cheekoActivate } from '../protocols/cheeko/contract';
import { createLogger } from '../shared/logger';
import { flushMetrics } from '../shared/metrics';
import { operationsHandler, routeKeysOf, servedOperations, type Implementations } from '../shared/operations';
import { catalogStore, deviceStore, productConfigCache } from '../shared/wiring';

const logger = createLogger('activation');
const implementations: Implementations<OperationsOf<'activation'>> = cheekoActivateRoutes({
  config: productConfigCache(catalogStore()),
  devices: deviceStore(),
  logger,
});

const OPERATIONS = servedOperations('activation', [cheekoActivate]);

export const handler = operationsHandler(logger, OPERATIONS, implementations, { flush: flushMetrics });

export const ACTIVATION_ROUTE_KEYS = routeKeysOf(OPERATIONS);
