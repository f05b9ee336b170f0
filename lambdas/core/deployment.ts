/** Creating deployments: pure rules (what may be deployed, what the deployment carries). */
import { randomBytes } from 'node:crypto';
import { DomainError } from './errors';
import { DEFAULT_CHANNEL, offeredBuild, type Deployment, type Firmware } from './model';

/** Sortable, short deployment id: `dep_` + base36 time + random. */
export const newDeploymentId = (nowMs: number = Date.now()): string =>
  `dep_${nowMs.toString(36)}${randomBytes(5).toString('hex')}`;

/** Assignment ids: same shape as deployment ids, `asg_` prefix. */
export const newAssignmentId = (nowMs: number = Date.now()): string => `asg_${nowMs.toString(36)}${randomBytes(5).toString('hex')}`;

/** A fresh random cohort seed (stored, so cohorts are stable for the deployment's life). */
export const newSeed = (): string => randomBytes(8).toString('hex');

export interface NewDeploymentArgs {
  readonly firmware: Firmware;
  readonly percentage: number;
  readonly channel?: string;
  readonly seed?: string;
  readonly deploymentId: string;
  readonly now: string;
}

/** Only RELEASED builds may be deployed; the deployment snapshots what devices will be offered. */
export function newDeployment(args: NewDeploymentArgs): Deployment {
  const fw = args.firmware;
  if (fw.state !== 'RELEASED') {
    throw new DomainError('conflict', 'firmware_not_released', `Build ${fw.build} is ${fw.state}; release it before deploying`);
  }
  return {
    productId: fw.productId,
    deploymentId: args.deploymentId,
    build: fw.build,
    channel: args.channel ?? fw.channel ?? DEFAULT_CHANNEL,
    percentage: args.percentage,
    seed: args.seed ?? newSeed(),
    state: 'active',
    firmware: offeredBuild(fw),
    counts: { offered: 0, downloading: 0, installing: 0, succeeded: 0, failed: 0, rolledBack: 0 },
    createdAt: args.now,
    updatedAt: args.now,
  };
}
