/**
 * admin — the operator API (IAM-authorised in the cloud, loopback-only locally). Implements the
 * operations the contract declares for this function: the declaration has parsed the request, an
 * operator service (product, firmware, deployment, device-admin) applies the rules, and the reply
 * presents what it returns, type-checked against the declared response.
 */
import { OPERATOR_OPERATIONS } from '../contract/operator';
import { presentDeployment, presentFirmware, presentAssignment, presentDevice, presentProduct, presentSigningKey } from '../contract/operator-wire';
import { isDomainError } from '../core/errors';
import type { Chip } from '../core/model';
import { iotaapListOtas } from '../protocols/iotaap/contract';
import { pageIotaapOtas, parseIotaapListQuery } from '../protocols/iotaap/wire';
import { protocolsFromWire } from '../protocols/registry';
import { DeploymentService } from '../shared/deployment-service';
import { DeviceAdminService } from '../shared/device-admin-service';
import { FirmwareService } from '../shared/firmware-service';
import { json } from '../shared/http';
import { createLogger } from '../shared/logger';
import { operationsHandler, routeKeysOf, servedOperations, type Implementations } from '../shared/operations';
import { platformSignerFromEnv } from '../shared/platform-signer';
import { ProductService } from '../shared/product-service';
import { SigningKeyService } from '../shared/signing-key-service';
import { catalogStore, deploymentStore, deviceStore, signingKeyStore } from '../shared/wiring';

const logger = createLogger('admin');
const catalog = catalogStore();
const deployments = deploymentStore();
const devices = deviceStore();
const productService = new ProductService({ catalog, logger });
const firmwareService = new FirmwareService({ catalog, deployments, logger });
const deploymentService = new DeploymentService({ catalog, deployments, logger });
const deviceService = new DeviceAdminService({ catalog, devices, logger });
const signingKeyService = new SigningKeyService({ catalog, keys: signingKeyStore(), deployments, platformSigner: platformSignerFromEnv(), logger });

// Imported one by one, not through the whole contract, so the bundle carries no device protocol's
// schemas; tsc checks this is exactly what the contract gives the admin function.
const ADMIN_OPERATIONS = servedOperations('admin', [...OPERATOR_OPERATIONS, iotaapListOtas]);
type AdminOperation = (typeof ADMIN_OPERATIONS)[number];

const implementations: Implementations<AdminOperation> = {
  putProduct: async ({ params, body, reply }) => {
    if (body.platform_signing) signingKeyService.assertPlatformSigningAvailable();
    const { product, created } = await productService.put(params.productId, {
      name: body.name,
      chip: body.chip as Chip,
      firmwareType: body.firmware_type,
      autoRegister: body.auto_register,
      securityMode: body.security_mode,
      pollIntervalS: body.poll_interval_s,
      deviceQuota: body.device_quota,
      deviceSelectsChannel: body.device_selects_channel,
      maxImageSize: body.max_image_size,
      signing: body.signing,
      platformSigning: body.platform_signing,
      protocols: protocolsFromWire(body.protocols),
    });
    // Ingest signs with the registered platform key: register it with the product (idempotent).
    if (product.platformSigning) await signingKeyService.registerPlatformKey(product.productId);
    return reply(created ? 201 : 200, presentProduct(product));
  },
  getProduct: async ({ params, reply }) => reply(200, presentProduct(await productService.get(params.productId))),
  rotateProductKey: async ({ params, reply }) => {
    const { productKey, previousKeyAccepted } = await productService.rotateKey(params.productId);
    return reply(201, { product_key: productKey, previous_key_accepted: previousKeyAccepted, note: 'Shown once; only its hash is stored.' });
  },
  retirePreviousProductKey: async ({ params, reply }) => {
    await productService.retirePreviousKey(params.productId);
    return reply(200, { previous_key_accepted: false });
  },

  listSigningKeys: async ({ params, reply }) => reply(200, { items: (await signingKeyService.list(params.productId)).map(presentSigningKey) }),
  addSigningKey: async ({ params, body, reply }) => {
    const { key, created } = await signingKeyService.add(params.productId, { publicKeyPem: body.public_key, name: body.name });
    return reply(created ? 201 : 200, presentSigningKey(key));
  },
  revokeSigningKey: async ({ params, reply }) => {
    const { key, pausedDeployments } = await signingKeyService.revoke(params.productId, params.keyId);
    return reply(200, { ...presentSigningKey(key), paused_deployments: pausedDeployments });
  },

  getDevice: async ({ params, reply }) => reply(200, presentDevice(await deviceService.get(params.productId, params.deviceId))),
  listDevices: async ({ params, query, reply }) => {
    const page = await deviceService.list(params.productId, { limit: query.limit, cursor: query.cursor, prefix: query.prefix });
    return reply(200, { items: page.items.map(presentDevice), cursor: page.cursor ?? null });
  },
  patchDevice: async ({ params, body, reply }) => {
    const updated = await deviceService.patch(params.productId, params.deviceId, {
      active: body.active,
      autoUpdate: body.auto_update,
      channel: body.channel,
      groups: body.groups,
      tags: body.tags,
    });
    return reply(200, presentDevice(updated));
  },
  issueDeviceToken: async ({ params, reply }) => {
    const { deviceId, token } = await deviceService.issueToken(params.productId, params.deviceId);
    return reply(201, { device_id: deviceId, token, note: 'Shown once; only its hash is stored.' });
  },
  assignBuild: async ({ params, body, reply }) => {
    const { outcome, assignment } = await deviceService.assign(params.productId, params.deviceId, {
      build: body.build,
      replace: body.replace,
      retry: body.retry,
      allowDowngrade: body.allow_downgrade,
    });
    return reply(outcome === 'assigned' ? 201 : 200, presentAssignment(assignment));
  },
  clearFailedBuilds: async ({ params, query, reply }) =>
    reply(200, presentDevice(await deviceService.clearFailedBuilds(params.productId, params.deviceId, query.build))),
  getAssignment: async ({ params, reply }) => reply(200, presentAssignment(await deviceService.getAssignment(params.productId, params.deviceId))),
  cancelAssignment: async ({ params, reply }) => {
    await deviceService.cancelAssignment(params.productId, params.deviceId);
    return reply(200, { cancelled: true });
  },

  listFirmware: async ({ params, query, reply }) => {
    const page = await firmwareService.list(params.productId, { limit: query.limit, cursor: query.cursor, state: query.state, version: query.version });
    return reply(200, { items: page.items.map(presentFirmware), cursor: page.cursor ?? null });
  },
  getFirmware: async ({ params, reply }) => reply(200, presentFirmware(await firmwareService.get(params.productId, Number(params.build)))),
  releaseFirmware: async ({ params, reply }) => {
    const { firmware, warnings } = await firmwareService.release(params.productId, Number(params.build));
    return reply(200, { ...presentFirmware(firmware), warnings });
  },
  revokeFirmware: async ({ params, reply }) => {
    const { firmware, pausedDeployments } = await firmwareService.revoke(params.productId, Number(params.build));
    return reply(200, { ...presentFirmware(firmware), paused_deployments: pausedDeployments });
  },

  createDeployment: async ({ params, body, reply }) => {
    const deployment = await deploymentService.create(params.productId, {
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
    return reply(201, presentDeployment(deployment));
  },
  listDeployments: async ({ params, query, reply }) =>
    reply(200, { items: (await deploymentService.list(params.productId, { state: query.state })).map(presentDeployment) }),
  getDeployment: async ({ params, reply }) => reply(200, presentDeployment(await deploymentService.get(params.productId, params.deploymentId))),
  completeDeployment: async ({ params, reply }) => reply(200, presentDeployment(await deploymentService.complete(params.productId, params.deploymentId))),
  cancelDeployment: async ({ params, reply }) => reply(200, presentDeployment(await deploymentService.cancel(params.productId, params.deploymentId))),
  promoteDeployment: async ({ params, body, reply }) =>
    reply(200, presentDeployment(await deploymentService.promote(params.productId, params.deploymentId, body.percentage))),
  pauseDeployment: async ({ params, reply }) => reply(200, presentDeployment(await deploymentService.pause(params.productId, params.deploymentId))),
  resumeDeployment: async ({ params, reply }) => reply(200, presentDeployment(await deploymentService.resume(params.productId, params.deploymentId))),

  // IoTaaP's documented bodies: `{ message }` (400) and `{ message, error }` (500).
  iotaapListOtas: {
    handle: async ({ event, reply }) => reply(200, pageIotaapOtas(await deviceService.iotaapOtas(), parseIotaapListQuery(event.queryStringParameters ?? {}))),
    onError: (e) =>
      isDomainError(e)
        ? json(400, { message: e.message })
        : json(500, { message: "Error when getting device OTA's.", error: (e as Error).message ?? 'unknown' }, { 'retry-after': '30' }),
  },
};

export const handler = operationsHandler(logger, ADMIN_OPERATIONS, implementations);

/** Route keys this function implements (checked against the route table by a test). */
export const ADMIN_ROUTE_KEYS = routeKeysOf(ADMIN_OPERATIONS);
