/**
 * admin — the operator API (IAM-authorised in the cloud, loopback-only locally).
 * Dispatches on the route key of the shared route table; every operation is a few store calls.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  CreateDeploymentSchema,
  ListQuerySchema,
  PromoteSchema,
  PutProductSchema,
  presentDeployment,
  presentFirmware,
  presentProduct,
} from '../core/admin-api';
import { newDeployment, newDeploymentId } from '../core/deployment';
import { DomainError } from '../core/errors';
import type { Deployment } from '../core/model';
import { invalidateProductConfig } from '../shared/config-cache';
import { httpHandler, json, parseJsonBody, validate, type HttpResult } from '../shared/http';
import { createLogger } from '../shared/logger';
import { catalogStore, deploymentStore } from '../shared/wiring';

const logger = createLogger('admin');
const catalog = catalogStore();
const deployments = deploymentStore();

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
    if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(p.productId)) {
      throw new DomainError('invalid', 'invalid_product_id', 'Product id must match [a-z0-9][a-z0-9_-]{0,31}');
    }
    const { product, created } = await catalog.putProduct(
      {
        productId: p.productId,
        name: body.name ?? p.productId,
        chip: body.chip as never,
        firmwareType: body.firmware_type,
        autoRegister: body.auto_register ?? true,
        securityMode: body.security_mode,
        pollIntervalS: body.poll_interval_s ?? 900,
      },
      nowIso(),
    );
    invalidateProductConfig(p.productId);
    return json(created ? 201 : 200, presentProduct(product));
  },

  [`GET ${P}`]: async (p) => json(200, presentProduct(await requireProduct(p.productId))),

  [`GET ${P}/firmware`]: async (p, event) => {
    await requireProduct(p.productId);
    const q = validate(ListQuerySchema, event.queryStringParameters ?? {});
    const page = await catalog.listFirmware(p.productId, { limit: q.limit, cursor: q.cursor });
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
      seed: body.seed,
      deploymentId: newDeploymentId(now.getTime()),
      now: now.toISOString(),
    });
    await deployments.create(deployment);
    invalidateProductConfig(p.productId);
    logger.info('deployment created', { deploymentId: deployment.deploymentId, build: deployment.build, percentage: deployment.percentage });
    return json(201, presentDeployment(deployment));
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
    return transitionDeployment(p, ['paused'], 'active');
  },
};

export const handler = httpHandler(logger, async (event) => {
  const op = operations[event.routeKey];
  if (!op) throw new DomainError('not_found', 'route_not_found', `No operation for ${event.routeKey}`);
  return op((event.pathParameters ?? {}) as Params, event);
});

/** Route keys this function implements (checked against the route table by a test). */
export const ADMIN_ROUTE_KEYS = Object.keys(operations);
