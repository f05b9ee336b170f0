/**
 * Operator actions on deployments: create one (only of a released build), list and read them, and
 * move them through their states — each a conditional transition in the store, idempotent when the
 * deployment already is where it was asked to go, 409 otherwise. Promotion only raises the
 * percentage; resuming refuses a revoked build. Returns domain objects and throws DomainError.
 */
import { needsSweeper, newDeployment, newDeploymentId, type NewDeploymentArgs } from '../core/deployment';
import { DomainError } from '../core/errors';
import type { Deployment, DeploymentState } from '../core/model';
import { invalidateProductConfig } from './config-cache';
import { requireFirmware } from './firmware-service';
import type { Logger } from './logger';
import { requireProduct } from './product-service';
import type { CatalogStorePort, DeploymentStorePort } from './store/ports';

/** What an operator asks for: a build and how to roll it out. */
export type DeploymentSpec = Omit<NewDeploymentArgs, 'firmware' | 'deploymentId' | 'now'> & { readonly build: number };

export const DEPLOYMENT_STATES: readonly DeploymentState[] = ['active', 'paused', 'completed', 'cancelled'];

export interface DeploymentServiceDeps {
  readonly catalog: CatalogStorePort;
  readonly deployments: DeploymentStorePort;
  readonly logger: Pick<Logger, 'info'>;
  readonly now?: () => Date;
}

export class DeploymentService {
  constructor(private readonly deps: DeploymentServiceDeps) {}

  async create(productId: string, spec: DeploymentSpec): Promise<Deployment> {
    const { catalog, deployments, logger } = this.deps;
    await requireProduct(catalog, productId);
    const firmware = await requireFirmware(catalog, productId, spec.build);
    const now = this.now();
    const { build: _build, ...rollout } = spec;
    const deployment = newDeployment({ ...rollout, firmware, deploymentId: newDeploymentId(now.getTime()), now: now.toISOString() });
    await deployments.create(deployment);
    if (needsSweeper(deployment)) await deployments.watch(deployment.productId, deployment.deploymentId);
    invalidateProductConfig(productId);
    logger.info('deployment created', { deploymentId: deployment.deploymentId, build: deployment.build, percentage: deployment.percentage });
    return deployment;
  }

  /** A product's deployments, newest first, optionally in one state (400 invalid_state for an unknown one). */
  async list(productId: string, filter: { readonly state?: string } = {}): Promise<Deployment[]> {
    await requireProduct(this.deps.catalog, productId);
    const { state } = filter;
    if (state !== undefined && !DEPLOYMENT_STATES.includes(state as DeploymentState)) {
      throw new DomainError('invalid', 'invalid_state', 'state must be active, paused, completed or cancelled');
    }
    const all = (await this.deps.deployments.list(productId)).filter((d) => !state || d.state === state);
    return all.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  get(productId: string, deploymentId: string): Promise<Deployment> {
    return this.require(productId, deploymentId);
  }

  /** Finished: takes it off the sweeper's list. */
  async complete(productId: string, deploymentId: string): Promise<Deployment> {
    const d = await this.transition(productId, deploymentId, ['active', 'paused'], 'completed', 'manual');
    await this.deps.deployments.unwatch(productId, deploymentId);
    return d;
  }

  async cancel(productId: string, deploymentId: string): Promise<Deployment> {
    const d = await this.transition(productId, deploymentId, ['active', 'paused'], 'cancelled', 'manual');
    await this.deps.deployments.unwatch(productId, deploymentId);
    return d;
  }

  pause(productId: string, deploymentId: string): Promise<Deployment> {
    return this.transition(productId, deploymentId, ['active'], 'paused', 'manual');
  }

  /** paused → active, unless its build was revoked. Resuming accepts what came before: the failure policy judges outcomes from now on. */
  async resume(productId: string, deploymentId: string): Promise<Deployment> {
    const { catalog, deployments, logger } = this.deps;
    const d = await this.require(productId, deploymentId);
    const fw = await requireFirmware(catalog, productId, d.build);
    if (fw.state === 'REVOKED') throw new DomainError('conflict', 'firmware_revoked', `Build ${d.build} is revoked`);
    const resumed = await deployments.resume(productId, deploymentId, this.now().toISOString());
    if (!resumed) {
      if (d.state === 'active') return d; // idempotent
      throw new DomainError('conflict', 'invalid_state', `Deployment is ${d.state}; cannot move to active`);
    }
    invalidateProductConfig(productId);
    logger.info('deployment state changed', { deploymentId, to: 'active' });
    return resumed;
  }

  /** Raises the percentage of an unfinished deployment; never lowers it (409 percentage_decrease). */
  async promote(productId: string, deploymentId: string, percentage: number): Promise<Deployment> {
    const updated = await this.deps.deployments.raisePercentage(productId, deploymentId, percentage, this.now().toISOString());
    if (!updated) {
      const current = await this.require(productId, deploymentId);
      if (current.percentage > percentage) {
        throw new DomainError('conflict', 'percentage_decrease', `Percentage can only grow (now ${current.percentage}); pause instead`);
      }
      throw new DomainError('conflict', 'invalid_state', `Deployment is ${current.state}`);
    }
    invalidateProductConfig(productId);
    return updated;
  }

  /** Runs a conditional transition; on a lost condition explains why with the current state. */
  private async transition(productId: string, deploymentId: string, from: DeploymentState[], to: DeploymentState, reason: string): Promise<Deployment> {
    const { deployments, logger } = this.deps;
    const updated = await deployments.transition(productId, deploymentId, from, to, reason, this.now().toISOString());
    if (!updated) {
      const current = await this.require(productId, deploymentId);
      if (current.state === to) return current; // idempotent
      throw new DomainError('conflict', 'invalid_state', `Deployment is ${current.state}; cannot move to ${to}`);
    }
    invalidateProductConfig(productId);
    logger.info('deployment state changed', { deploymentId, to, reason });
    return updated;
  }

  private async require(productId: string, deploymentId: string): Promise<Deployment> {
    const d = await this.deps.deployments.get(productId, deploymentId, true);
    if (!d) throw new DomainError('not_found', 'deployment_not_found', `Deployment ${deploymentId} does not exist`);
    return d;
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }
}
