/**
 * admin — the operator API (IAM-authorised in the cloud, loopback-only locally).
 * Dispatches on the route key of the shared route table; every operation is a few store calls.
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
  protocolAliases,
} from '../core/admin-api';
import { normalizeDeviceId, DEVICE_ID_PATTERN } from '../core/device-id';
import { hashSecret, newDeviceToken, newProductKey } from '../core/security';
import { needsSweeper, newAssignmentId, newDeployment, newDeploymentId } from '../core/deployment';
import { DomainError, isDomainError } from '../core/errors';
import { compareVersions, isValidVersion } from '../core/version';
import { PRODUCT_ID_PATTERN } from '../core/manifest';
import { pageIotaapOtas, parseIotaapListQuery, type IotaapOta } from '../core/protocols/iotaap';
import { DEFAULT_CHANNEL, offeredBuild, type Deployment, type Device, type Product } from '../core/model';
import { invalidateProductConfig } from '../shared/config-cache';
import { httpHandler, json, parseJsonBody, validate, type HttpResult } from '../shared/http';
import { createLogger } from '../shared/logger';
import { catalogStore, deploymentStore, deviceStore } from '../shared/wiring';

const logger = createLogger('admin');
const catalog = catalogStore();
const deployments = deploymentStore();
const devices = deviceStore();

type Params = Record<string, string>;
type Operation = (p: Params, event: APIGatewayProxyEventV2) => Promise<HttpResult>;

const nowIso = () => new Date().toISOString();

function buildParam(p: Params): number {
  const n = Number(p.build);
  if (!/^\d{1,10}$/.test(p.build ?? '') || !Number.isSafeInteger(n) || n < 1) {
    throw new DomainError('invalid', 'invalid_build', 'Build number must be a positive integer');
  }
  return n;
}

async function requireProduct(productId: string) {
  const product = await catalog.getProduct(productId);
  if (!product) throw new DomainError('not_found', 'product_not_found', `Product ${productId} does not exist`);
  return product;
}

async function requireFirmware(productId: string, build: number) {
  const fw = await catalog.getFirmware(productId, build, true);
  if (!fw) throw new DomainError('not_found', 'firmware_not_found', `Build ${build} of ${productId} does not exist`);
  return fw;
}

function deviceParam(p: Params): string {
  const raw = p.deviceId ?? '';
  if (!DEVICE_ID_PATTERN.test(raw)) throw new DomainError('invalid', 'invalid_device_id', 'Device id is not valid');
  return normalizeDeviceId(raw);
}

async function requireDevice(productId: string, deviceId: string): Promise<Device> {
  const d = await devices.get(productId, deviceId, true);
  if (!d) throw new DomainError('not_found', 'device_not_found', `Device ${deviceId} of ${productId} does not exist`);
  return d;
}

/**
 * An assignment is an operator's explicit intent, but two things it must say out loud: a build the
 * device already failed or rolled back from (`retry`: clear it and try again, recorded in the
 * device's history), and a build older than the one it runs (`allow_downgrade`).
 */
function guardAssignment(device: Device, build: number, version: string, body: { retry?: boolean; allow_downgrade?: boolean }): { clearFailed: boolean } {
  const failed = device.failedBuilds.includes(build);
  if (failed) {
    if (!body.retry) {
      const last = [...(device.history ?? [])].reverse().find((e) => e.build === build && (e.status === 'failed' || e.status === 'rolled_back'));
      const why = last ? `${last.status}${last.inferred ? ` (inferred: ${last.reason})` : ''}${last.message ? `: ${last.message}` : ''}` : 'failed';
      throw new DomainError('conflict', 'build_failed_before', `Device ${device.deviceId} ${why} with build ${build}; send "retry": true to clear it and assign it again`);
    }
  }
  const running = device.currentVersion;
  if (!body.allow_downgrade && running !== undefined && isValidVersion(running) && isValidVersion(version) && compareVersions(version, running) < 0) {
    throw new DomainError('conflict', 'downgrade', `Build ${build} (${version}) is older than what device ${device.deviceId} runs (${running}); send "allow_downgrade": true to assign it`);
  }
  return { clearFailed: failed };
}

/** A device record for an operator action on a device that has not checked in yet. */
const newDevice = (product: Product, deviceId: string, now: string): Device => ({
  productId: product.productId,
  deviceId,
  channel: DEFAULT_CHANNEL,
  active: true,
  firstSeen: now,
  lastSeen: now,
  failedBuilds: [],
  ...(product.protocols?.iotaap ? { globalId: deviceId } : {}),
});

/** Claims the product's protocol aliases and frees the ones it no longer uses; 409 when another product holds one. */
async function syncAliases(before: Product | undefined, after: Pick<Product, 'productId' | 'protocols'>) {
  const wanted = protocolAliases(after);
  for (const alias of wanted) {
    if (!(await catalog.claimAlias(alias, after.productId))) {
      throw new DomainError('conflict', 'protocol_binding_taken', `Another product already uses ${alias.replace(/#/g, ' ')}`);
    }
  }
  for (const alias of before ? protocolAliases(before) : []) if (!wanted.includes(alias)) await catalog.releaseAlias(alias, after.productId);
}

async function requireDeployment(productId: string, deploymentId: string): Promise<Deployment> {
  const d = await deployments.get(productId, deploymentId, true);
  if (!d) throw new DomainError('not_found', 'deployment_not_found', `Deployment ${deploymentId} does not exist`);
  return d;
}

/** Runs a conditional deployment transition; on a lost condition explains why with the current state. */
async function transitionDeployment(p: Params, from: Deployment['state'][], to: Deployment['state'], reason?: string) {
  const updated = await deployments.transition(p.productId, p.deploymentId, from, to, reason, nowIso());
  if (!updated) {
    const current = await requireDeployment(p.productId, p.deploymentId);
    if (current.state === to) return json(200, presentDeployment(current)); // idempotent
    throw new DomainError('conflict', 'invalid_state', `Deployment is ${current.state}; cannot move to ${to}`);
  }
  invalidateProductConfig(p.productId);
  logger.info('deployment state changed', { deploymentId: p.deploymentId, to, reason });
  return json(200, presentDeployment(updated));
}

const P = '/admin/v1/products/{productId}';
const operations: Record<string, Operation> = {
  [`PUT ${P}`]: async (p, event) => {
    const body = validate(PutProductSchema, parseJsonBody(event));
    if (!PRODUCT_ID_PATTERN.test(p.productId)) {
      throw new DomainError('invalid', 'invalid_product_id', 'Product id must match [a-z0-9][a-z0-9_-]{0,31}');
    }
    const pr = body.protocols;
    const protocols = pr
      ? {
          ...(pr.firefly ? { firefly: { productClass: pr.firefly.product_class, productHex: pr.firefly.product_hex.toLowerCase() } } : {}),
          ...(pr.cheeko ? { cheeko: { application: pr.cheeko.application, ...(pr.cheeko.default ? { default: true } : {}) } } : {}),
          ...(pr.iotaap ? { iotaap: true } : {}),
        }
      : undefined;
    // Aliases first: a binding another product holds must fail the whole PUT before anything changes.
    const before = await catalog.getProduct(p.productId);
    await syncAliases(before, { productId: p.productId, protocols });
    const { product, created } = await catalog.putProduct(
      {
        productId: p.productId,
        name: body.name ?? p.productId,
        chip: body.chip as never,
        firmwareType: body.firmware_type,
        // Devices cannot register themselves when each needs an operator-issued token.
        autoRegister: body.security_mode === 'device_token' ? false : (body.auto_register ?? true),
        securityMode: body.security_mode,
        pollIntervalS: body.poll_interval_s ?? 900,
        deviceQuota: body.device_quota,
        deviceSelectsChannel: body.device_selects_channel,
        maxImageSize: body.max_image_size,
        protocols,
      },
      nowIso(),
    );
    invalidateProductConfig(p.productId);
    return json(created ? 201 : 200, presentProduct(product));
  },

  [`GET ${P}`]: async (p) => json(200, presentProduct(await requireProduct(p.productId))),

  [`POST ${P}/key`]: async (p) => {
    const product = await requireProduct(p.productId);
    const key = newProductKey();
    // The old key stays valid until retired, so firmware carrying it can be replaced gradually.
    await catalog.setProductKeys(p.productId, hashSecret(key), product.productKeyHash);
    invalidateProductConfig(p.productId);
    logger.info('product key rotated', { productId: p.productId });
    return json(201, { product_key: key, previous_key_accepted: Boolean(product.productKeyHash), note: 'Shown once; only its hash is stored.' });
  },

  [`DELETE ${P}/key/previous`]: async (p) => {
    const product = await requireProduct(p.productId);
    await catalog.setProductKeys(p.productId, product.productKeyHash, undefined);
    invalidateProductConfig(p.productId);
    return json(200, { previous_key_accepted: false });
  },

  [`GET ${P}/devices/{deviceId}`]: async (p) => json(200, presentDevice(await requireDevice(p.productId, deviceParam(p)))),

  [`GET ${P}/devices`]: async (p, event) => {
    await requireProduct(p.productId);
    const q = validate(DeviceListQuerySchema, event.queryStringParameters ?? {});
    const page = await devices.listByProduct(p.productId, { limit: q.limit, cursor: q.cursor, prefix: q.prefix });
    return json(200, { items: page.items.map(presentDevice), cursor: page.cursor ?? null });
  },

  [`PATCH ${P}/devices/{deviceId}`]: async (p, event) => {
    const body = validate(PatchDeviceSchema, parseJsonBody(event));
    const updated = await devices.update(p.productId, deviceParam(p), {
      ...(body.active !== undefined ? { active: body.active } : {}),
      ...(body.auto_update !== undefined ? { autoUpdate: body.auto_update } : {}),
      ...(body.channel !== undefined ? { channel: body.channel } : {}),
      ...(body.groups !== undefined ? { groups: body.groups } : {}),
      ...(body.tags !== undefined ? { tags: body.tags } : {}),
    });
    if (!updated) throw new DomainError('not_found', 'device_not_found', `Device ${p.deviceId} of ${p.productId} does not exist`);
    return json(200, presentDevice(updated));
  },

  [`POST ${P}/devices/{deviceId}/token`]: async (p) => {
    const product = await requireProduct(p.productId);
    const deviceId = deviceParam(p);
    const token = newDeviceToken();
    await devices.setToken(newDevice(product, deviceId, nowIso()), hashSecret(token));
    logger.info('device token issued', { productId: p.productId, deviceId });
    return json(201, { device_id: deviceId, token, note: 'Shown once; only its hash is stored.' });
  },

  [`PUT ${P}/devices/{deviceId}/assignment`]: async (p, event) => {
    const body = validate(AssignSchema, parseJsonBody(event));
    const product = await requireProduct(p.productId);
    const deviceId = deviceParam(p);
    const fw = await requireFirmware(p.productId, body.build);
    if (fw.state !== 'RELEASED') throw new DomainError('conflict', 'firmware_not_released', `Build ${fw.build} is ${fw.state}; release it first`);
    const now = nowIso();
    const known = await devices.get(p.productId, deviceId, true);
    const guard = known ? guardAssignment(known, fw.build, fw.version, body) : { clearFailed: false };
    const assignment = { assignmentId: newAssignmentId(Date.now()), build: fw.build, state: 'pending' as const, firmware: offeredBuild(fw), assignedAt: now, updatedAt: now };
    let outcome = await devices.assign(p.productId, deviceId, assignment, body.replace ?? false);
    if (outcome === 'unknown_device') {
      await devices.register(newDevice(product, deviceId, now));
      outcome = await devices.assign(p.productId, deviceId, assignment, body.replace ?? false);
    }
    if (outcome === 'conflict') {
      throw new DomainError('conflict', 'assignment_pending', 'The device already has an open assignment; send "replace": true to replace it');
    }
    if (guard.clearFailed) {
      await devices.clearFailedBuilds(p.productId, deviceId, [fw.build], now, 'retry requested with an assignment');
    }
    const device = await requireDevice(p.productId, deviceId);
    logger.info('build assigned', { productId: p.productId, deviceId, build: fw.build, outcome });
    return json(outcome === 'assigned' ? 201 : 200, presentAssignment(device.assignment!));
  },

  [`DELETE ${P}/devices/{deviceId}/failed-builds`]: async (p, event) => {
    const q = validate(ClearFailedBuildsQuerySchema, event.queryStringParameters ?? {});
    const deviceId = deviceParam(p);
    const device = await requireDevice(p.productId, deviceId);
    const builds = q.build === undefined ? device.failedBuilds : device.failedBuilds.filter((b) => b === q.build);
    const updated = await devices.clearFailedBuilds(p.productId, deviceId, builds, nowIso(), 'cleared by an operator');
    if (!updated) throw new DomainError('not_found', 'device_not_found', `Device ${deviceId} of ${p.productId} does not exist`);
    logger.info('failed builds cleared', { productId: p.productId, deviceId, builds });
    return json(200, presentDevice(updated));
  },

  [`GET ${P}/devices/{deviceId}/assignment`]: async (p) => {
    const device = await requireDevice(p.productId, deviceParam(p));
    if (!device.assignment) throw new DomainError('not_found', 'assignment_not_found', 'The device has no assignment');
    return json(200, presentAssignment(device.assignment));
  },

  [`DELETE ${P}/devices/{deviceId}/assignment`]: async (p) => {
    const deviceId = deviceParam(p);
    if (!(await devices.cancelAssignment(p.productId, deviceId))) {
      throw new DomainError('not_found', 'assignment_not_found', 'The device has no open assignment');
    }
    return json(200, { cancelled: true });
  },

  [`GET ${P}/firmware`]: async (p, event) => {
    await requireProduct(p.productId);
    const q = validate(FirmwareListQuerySchema, event.queryStringParameters ?? {});
    const page = await catalog.listFirmware(p.productId, { limit: q.limit, cursor: q.cursor, state: q.state, version: q.version });
    return json(200, { items: page.items.map(presentFirmware), cursor: page.cursor ?? null });
  },

  [`GET ${P}/firmware/{build}`]: async (p) => json(200, presentFirmware(await requireFirmware(p.productId, buildParam(p)))),

  [`POST ${P}/firmware/{build}/release`]: async (p) => {
    const build = buildParam(p);
    const released = await catalog.transitionFirmware(p.productId, build, ['DRAFT'], 'RELEASED', nowIso());
    if (released) return json(200, presentFirmware(released));
    const fw = await requireFirmware(p.productId, build);
    if (fw.state === 'RELEASED') return json(200, presentFirmware(fw)); // idempotent
    throw new DomainError('conflict', 'invalid_state', `Build ${build} is ${fw.state} and cannot be released`);
  },

  [`POST ${P}/firmware/{build}/revoke`]: async (p) => {
    const build = buildParam(p);
    const revoked =
      (await catalog.transitionFirmware(p.productId, build, ['DRAFT', 'RELEASED'], 'REVOKED', nowIso())) ??
      (await requireFirmware(p.productId, build));
    // Nothing may offer a revoked build: pause every active deployment pointing at it.
    const paused: string[] = [];
    for (const d of await deployments.list(p.productId)) {
      if (d.build !== build || d.state !== 'active') continue;
      if (await deployments.transition(p.productId, d.deploymentId, ['active'], 'paused', 'firmware_revoked', nowIso())) {
        paused.push(d.deploymentId);
      }
    }
    invalidateProductConfig(p.productId);
    logger.info('firmware revoked', { build, pausedDeployments: paused });
    return json(200, { ...presentFirmware(revoked), paused_deployments: paused });
  },

  [`POST ${P}/deployments`]: async (p, event) => {
    const body = validate(CreateDeploymentSchema, parseJsonBody(event));
    await requireProduct(p.productId);
    const firmware = await requireFirmware(p.productId, body.build);
    const now = new Date();
    const deployment = newDeployment({
      firmware,
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
      deploymentId: newDeploymentId(now.getTime()),
      now: now.toISOString(),
    });
    await deployments.create(deployment);
    if (needsSweeper(deployment)) await deployments.watch(deployment.productId, deployment.deploymentId);
    invalidateProductConfig(p.productId);
    logger.info('deployment created', { deploymentId: deployment.deploymentId, build: deployment.build, percentage: deployment.percentage });
    return json(201, presentDeployment(deployment));
  },

  [`GET ${P}/deployments`]: async (p, event) => {
    await requireProduct(p.productId);
    const state = event.queryStringParameters?.state;
    if (state !== undefined && !['active', 'paused', 'completed', 'cancelled'].includes(state)) {
      throw new DomainError('invalid', 'invalid_state', 'state must be active, paused, completed or cancelled');
    }
    const all = (await deployments.list(p.productId)).filter((d) => !state || d.state === state);
    all.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return json(200, { items: all.map(presentDeployment) });
  },

  [`POST ${P}/deployments/{deploymentId}/complete`]: async (p) => {
    const r = await transitionDeployment(p, ['active', 'paused'], 'completed', 'manual');
    await deployments.unwatch(p.productId, p.deploymentId);
    return r;
  },

  [`POST ${P}/deployments/{deploymentId}/cancel`]: async (p) => {
    const r = await transitionDeployment(p, ['active', 'paused'], 'cancelled', 'manual');
    await deployments.unwatch(p.productId, p.deploymentId);
    return r;
  },

  [`GET ${P}/deployments/{deploymentId}`]: async (p) => json(200, presentDeployment(await requireDeployment(p.productId, p.deploymentId))),

  [`POST ${P}/deployments/{deploymentId}/promote`]: async (p, event) => {
    const { percentage } = validate(PromoteSchema, parseJsonBody(event));
    const updated = await deployments.raisePercentage(p.productId, p.deploymentId, percentage, nowIso());
    if (!updated) {
      const current = await requireDeployment(p.productId, p.deploymentId);
      if (current.percentage > percentage) {
        throw new DomainError('conflict', 'percentage_decrease', `Percentage can only grow (now ${current.percentage}); pause instead`);
      }
      throw new DomainError('conflict', 'invalid_state', `Deployment is ${current.state}`);
    }
    invalidateProductConfig(p.productId);
    return json(200, presentDeployment(updated));
  },

  [`POST ${P}/deployments/{deploymentId}/pause`]: (p) => transitionDeployment(p, ['active'], 'paused', 'manual'),

  [`POST ${P}/deployments/{deploymentId}/resume`]: async (p) => {
    const d = await requireDeployment(p.productId, p.deploymentId);
    const fw = await requireFirmware(p.productId, d.build);
    if (fw.state === 'REVOKED') throw new DomainError('conflict', 'firmware_revoked', `Build ${d.build} is revoked`);
    // Resuming accepts what came before: the failure policy judges outcomes from now on.
    const resumed = await deployments.resume(p.productId, p.deploymentId, nowIso());
    if (!resumed) {
      if (d.state === 'active') return json(200, presentDeployment(d)); // idempotent
      throw new DomainError('conflict', 'invalid_state', `Deployment is ${d.state}; cannot move to active`);
    }
    invalidateProductConfig(p.productId);
    logger.info('deployment state changed', { deploymentId: p.deploymentId, to: 'active' });
    return json(200, presentDeployment(resumed));
  },
};

/** IoTaaP operator list: the latest OTA (assignment) per device of every IoTaaP-bound product. */
async function iotaapOtas(): Promise<IotaapOta[]> {
  const out: IotaapOta[] = [];
  for (const { alias, productId } of await catalog.listAliases('iotaap#')) {
    if (alias !== `iotaap#${productId}`) continue;
    let cursor: string | undefined;
    do {
      const page = await devices.listByProduct(productId, { limit: 200, cursor });
      for (const d of page.items) {
        const a = d.assignment;
        if (!a) continue;
        const app = a.firmware.files.find((f) => f.role === 'app');
        out.push({ _id: a.assignmentId, device: d.deviceId, __v: 0, last_updated: a.assignedAt, owner: productId, path: app?.key ?? '', version: a.firmware.version });
      }
      cursor = page.cursor;
    } while (cursor);
  }
  return out;
}

/** IoTaaP's documented bodies: `{ message }` (400) and `{ message, error }` (500). */
const iotaapOperations: Record<string, Operation> = {
  'GET /v1/ota/device': async (_p, event) => json(200, pageIotaapOtas(await iotaapOtas(), parseIotaapListQuery(event.queryStringParameters ?? {}))),
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
