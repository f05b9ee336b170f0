/**
 * Operator actions on firmware builds: list and read them, release a draft, revoke a build — and,
 * since nothing may offer a revoked build, pause every active deployment of it. Returns domain
 * objects and throws DomainError; the admin handler presents them.
 */
import { releaseWarnings } from '../core/anti-rollback';
import { DomainError } from '../core/errors';
import type { Firmware, FirmwareState } from '../core/model';
import { invalidateProductConfig } from './config-cache';
import type { Logger } from './logger';
import { requireProduct } from './product-service';
import type { Page } from './store/ddb';
import type { CatalogStorePort, DeploymentStorePort } from './store/ports';

/** The build (consistent read), or 404 firmware_not_found. */
export async function requireFirmware(catalog: Pick<CatalogStorePort, 'getFirmware'>, productId: string, build: number): Promise<Firmware> {
  const fw = await catalog.getFirmware(productId, build, true);
  if (!fw) throw new DomainError('not_found', 'firmware_not_found', `Build ${build} of ${productId} does not exist`);
  return fw;
}

export interface FirmwareListOptions {
  readonly limit?: number;
  readonly cursor?: string;
  readonly state?: FirmwareState;
  /** Versions starting with this. */
  readonly version?: string;
}

export interface Revoked {
  readonly firmware: Firmware;
  /** The deployments this revocation paused. */
  readonly pausedDeployments: string[];
}

export interface FirmwareServiceDeps {
  readonly catalog: CatalogStorePort;
  readonly deployments: DeploymentStorePort;
  readonly logger: Pick<Logger, 'info'>;
  readonly now?: () => Date;
}

export class FirmwareService {
  constructor(private readonly deps: FirmwareServiceDeps) {}

  /** A product's builds, newest first; 404 for an unknown product. */
  async list(productId: string, opts: FirmwareListOptions = {}): Promise<Page<Firmware>> {
    await requireProduct(this.deps.catalog, productId);
    return this.deps.catalog.listFirmware(productId, opts);
  }

  get(productId: string, build: number): Promise<Firmware> {
    return requireFirmware(this.deps.catalog, productId, build);
  }

  /** DRAFT → RELEASED; idempotent on a released build, 409 invalid_state on a revoked one. */
  /** DRAFT → RELEASED (idempotent), with what the operator must know (a raised secure_version). */
  async release(productId: string, build: number): Promise<{ firmware: Firmware; warnings: string[] }> {
    const { catalog } = this.deps;
    let firmware = await catalog.transitionFirmware(productId, build, ['DRAFT'], 'RELEASED', this.nowIso());
    if (!firmware) {
      const fw = await requireFirmware(catalog, productId, build);
      if (fw.state !== 'RELEASED') throw new DomainError('conflict', 'invalid_state', `Build ${build} is ${fw.state} and cannot be released`);
      firmware = fw;
    }
    // Revoked builds count: devices may have booted them (and burned their secure_version) before the revocation.
    const before = await catalog.listFirmwareInStates(productId, ['RELEASED', 'REVOKED']);
    return { firmware, warnings: releaseWarnings(firmware, before) };
  }

  /** → REVOKED (idempotent), then pauses every active deployment of the build. */
  async revoke(productId: string, build: number): Promise<Revoked> {
    const { catalog, deployments, logger } = this.deps;
    const firmware =
      (await catalog.transitionFirmware(productId, build, ['DRAFT', 'RELEASED'], 'REVOKED', this.nowIso())) ??
      (await requireFirmware(catalog, productId, build));
    // Nothing may offer a revoked build: pause every active deployment pointing at it.
    const pausedDeployments: string[] = [];
    for (const d of await deployments.list(productId)) {
      if (d.build !== build || d.state !== 'active') continue;
      if (await deployments.transition(productId, d.deploymentId, ['active'], 'paused', 'firmware_revoked', this.nowIso())) {
        pausedDeployments.push(d.deploymentId);
      }
    }
    invalidateProductConfig(productId);
    logger.info('firmware revoked', { build, pausedDeployments });
    return { firmware, pausedDeployments };
  }

  private nowIso(): string {
    return (this.deps.now?.() ?? new Date()).toISOString();
  }
}
