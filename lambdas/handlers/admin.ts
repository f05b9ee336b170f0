/**
 * admin — the operator API (IAM-authorised in the cloud, loopback-only locally).
 * Dispatches on the route key of the shared route table; each operation parses and validates the
 * request, calls one of the operator services (product, firmware, deployment, device-admin),
 * and presents what it returns.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  AssignSchema,
  ClearFailedBuildsQuerySchema,
  CreateDeploymentSchema,
  DeviceListQuerySchema,
  FirmwareListQuerySchema,
  PatchDeviceSchema,
  PromoteSchema,
  PutProductSchema,
  presentDeployment,
  presentFirmware,
  presentAssignment,
  presentDevice,
  presentProduct,
} from '../core/admin-api';
import { DomainError, isDomainError } from '../core/errors';
import type { Chip } from '../core/model';
import { pageIotaapOtas, parseIotaapListQuery } from '../core/protocols/iotaap';
import { DeploymentService } from '../shared/deployment-service';
import { DeviceAdminService } from '../shared/device-admin-service';
import { FirmwareService } from '../shared/firmware-service';
import { httpHandler, json, parseJsonBody, validate, type HttpResult } from '../shared/http';
import { createLogger } from '../shared/logger';
import { ProductService } from '../shared/product-service';
import { catalogStore, deploymentStore, deviceStore } from '../shared/wiring';

const logger = createLogger('admin');
const catalog = catalogStore();
const deployments = deploymentStore();
const devices = deviceStore();
const productService = new ProductService({ catalog, logger });
const firmwareService = new FirmwareService({ catalog, deployments, logger });
const deploymentService = new DeploymentService({ catalog, deployments, logger });
const deviceService = new DeviceAdminService({ catalog, devices, logger });

type Params = Record<string, string>;
type Operation = (p: Params, event: APIGatewayProxyEventV2) => Promise<HttpResult>;

function buildParam(p: Params): number {
  const n = Number(p.build);
  if (!/^\d{1,10}$/.test(p.build ?? '') || !Number.isSafeInteger(n) || n < 1) {
    throw new DomainError('invalid', 'invalid_build', 'Build number must be a positive integer');
  }
  return n;
}

const P = '/admin/v1/products/{productId}';
const operations: Record<string, Operation> = {
  [`PUT ${P}`]: async (p, event) => {
    const body = validate(PutProductSchema, parseJsonBody(event));
    const pr = body.protocols;
    const { product, created } = await productService.put(p.productId, {
      name: body.name,
      chip: body.chip as Chip,
      firmwareType: body.firmware_type,
      autoRegister: body.auto_register,
      securityMode: body.security_mode,
      pollIntervalS: body.poll_interval_s,
      deviceQuota: body.device_quota,
      deviceSelectsChannel: body.device_selects_channel,
      protocols: pr
        ? {
            ...(pr.firefly ? { firefly: { productClass: pr.firefly.product_class, productHex: pr.firefly.product_hex.toLowerCase() } } : {}),
            ...(pr.cheeko ? { cheeko: { application: pr.cheeko.application, ...(pr.cheeko.default ? { default: true } : {}) } } : {}),
            ...(pr.iotaap ? { iotaap: true } : {}),
          }
        : undefined,
    });
    return json(created ? 201 : 200, presentProduct(product));
  },

  [`GET ${P}`]: async (p) => json(200, presentProduct(await productService.get(p.productId))),

  [`POST ${P}/key`]: async (p) => {
    const { productKey, previousKeyAccepted } = await productService.rotateKey(p.productId);
    return json(201, { product_key: productKey, previous_key_accepted: previousKeyAccepted, note: 'Shown once; only its hash is stored.' });
  },

  [`DELETE ${P}/key/previous`]: async (p) => {
    await productService.retirePreviousKey(p.productId);
    return json(200, { previous_key_accepted: false });
  },

  [`GET ${P}/devices/{deviceId}`]: async (p) => json(200, presentDevice(await deviceService.get(p.productId, p.deviceId))),

  [`GET ${P}/devices`]: async (p, event) => {
    const q = validate(DeviceListQuerySchema, event.queryStringParameters ?? {});
    const page = await deviceService.list(p.productId, { limit: q.limit, cursor: q.cursor, prefix: q.prefix });
    return json(200, { items: page.items.map(presentDevice), cursor: page.cursor ?? null });
  },

  [`PATCH ${P}/devices/{deviceId}`]: async (p, event) => {
    const body = validate(PatchDeviceSchema, parseJsonBody(event));
    const updated = await deviceService.patch(p.productId, p.deviceId, {
      active: body.active,
      autoUpdate: body.auto_update,
      channel: body.channel,
      groups: body.groups,
      tags: body.tags,
    });
    return json(200, presentDevice(updated));
  },

  [`POST ${P}/devices/{deviceId}/token`]: async (p) => {
    const { deviceId, token } = await deviceService.issueToken(p.productId, p.deviceId);
    return json(201, { device_id: deviceId, token, note: 'Shown once; only its hash is stored.' });
  },

  [`PUT ${P}/devices/{deviceId}/assignment`]: async (p, event) => {
    const body = validate(AssignSchema, parseJsonBody(event));
    const { outcome, assignment } = await deviceService.assign(p.productId, p.deviceId, {
      build: body.build,
      replace: body.replace,
      retry: body.retry,
      allowDowngrade: body.allow_downgrade,
    });
    return json(outcome === 'assigned' ? 201 : 200, presentAssignment(assignment));
  },

  [`DELETE ${P}/devices/{deviceId}/failed-builds`]: async (p, event) => {
    const q = validate(ClearFailedBuildsQuerySchema, event.queryStringParameters ?? {});
    return json(200, presentDevice(await deviceService.clearFailedBuilds(p.productId, p.deviceId, q.build)));
  },

  [`GET ${P}/devices/{deviceId}/assignment`]: async (p) => json(200, presentAssignment(await deviceService.getAssignment(p.productId, p.deviceId))),

  [`DELETE ${P}/devices/{deviceId}/assignment`]: async (p) => {
    await deviceService.cancelAssignment(p.productId, p.deviceId);
    return json(200, { cancelled: true });
  },

  [`GET ${P}/firmware`]: async (p, event) => {
    const q = validate(FirmwareListQuerySchema, event.queryStringParameters ?? {});
    const page = await firmwareService.list(p.productId, { limit: q.limit, cursor: q.cursor, state: q.state, version: q.version });
    return json(200, { items: page.items.map(presentFirmware), cursor: page.cursor ?? null });
  },

  [`GET ${P}/firmware/{build}`]: async (p) => json(200, presentFirmware(await firmwareService.get(p.productId, buildParam(p)))),

  [`POST ${P}/firmware/{build}/release`]: async (p) => json(200, presentFirmware(await firmwareService.release(p.productId, buildParam(p)))),

  [`POST ${P}/firmware/{build}/revoke`]: async (p) => {
    const { firmware, pausedDeployments } = await firmwareService.revoke(p.productId, buildParam(p));
    return json(200, { ...presentFirmware(firmware), paused_deployments: pausedDeployments });
  },

  [`POST ${P}/deployments`]: async (p, event) => {
    const body = validate(CreateDeploymentSchema, parseJsonBody(event));
    const deployment = await deploymentService.create(p.productId, {
      build: body.build,
      percentage: body.percentage,
      channel: body.channel,
      groups: body.groups,
      seed: body.seed,
      force: body.force,
      steps: body.schedule?.map((st) => ({ percentage: st.percentage, soakMinutes: st.soak_minutes, minSuccessRate: st.min_success_rate })),
      policy: {
        maxFailures: body.max_failures,
        maxFailureRate: body.max_failure_rate,
        minSample: body.min_sample,
        inProgressTimeoutMinutes: body.in_progress_timeout_minutes,
      },
    });
    return json(201, presentDeployment(deployment));
  },

  [`GET ${P}/deployments`]: async (p, event) => {
    const all = await deploymentService.list(p.productId, { state: event.queryStringParameters?.state });
    return json(200, { items: all.map(presentDeployment) });
  },

  [`POST ${P}/deployments/{deploymentId}/complete`]: async (p) => json(200, presentDeployment(await deploymentService.complete(p.productId, p.deploymentId))),

  [`POST ${P}/deployments/{deploymentId}/cancel`]: async (p) => json(200, presentDeployment(await deploymentService.cancel(p.productId, p.deploymentId))),

  [`GET ${P}/deployments/{deploymentId}`]: async (p) => json(200, presentDeployment(await deploymentService.get(p.productId, p.deploymentId))),

  [`POST ${P}/deployments/{deploymentId}/promote`]: async (p, event) => {
    const { percentage } = validate(PromoteSchema, parseJsonBody(event));
    return json(200, presentDeployment(await deploymentService.promote(p.productId, p.deploymentId, percentage)));
  },

  [`POST ${P}/deployments/{deploymentId}/pause`]: async (p) => json(200, presentDeployment(await deploymentService.pause(p.productId, p.deploymentId))),

  [`POST ${P}/deployments/{deploymentId}/resume`]: async (p) => json(200, presentDeployment(await deploymentService.resume(p.productId, p.deploymentId))),
};

/** IoTaaP's documented bodies: `{ message }` (400) and `{ message, error }` (500). */
const iotaapOperations: Record<string, Operation> = {
  'GET /v1/ota/device': async (_p, event) => json(200, pageIotaapOtas(await deviceService.iotaapOtas(), parseIotaapListQuery(event.queryStringParameters ?? {}))),
};
const iotaapErrors = (e: unknown) =>
  isDomainError(e) ? json(400, { message: e.message }) : json(500, { message: "Error when getting device OTA's.", error: (e as Error).message ?? 'unknown' }, { 'retry-after': '30' });

export const handler = httpHandler(
  logger,
  async (event) => {
    const op = operations[event.routeKey] ?? iotaapOperations[event.routeKey];
    if (!op) throw new DomainError('not_found', 'route_not_found', `No operation for ${event.routeKey}`);
    return op((event.pathParameters ?? {}) as Params, event);
  },
  { onError: (e, event) => (iotaapOperations[event.routeKey] ? iotaapErrors(e) : undefined) },
);

/** Route keys this function implements (checked against the route table by a test). */
export const ADMIN_ROUTE_KEYS = [...Object.keys(operations), ...Object.keys(iotaapOperations)];
