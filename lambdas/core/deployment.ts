/** Creating deployments: pure rules (what may be deployed, what the deployment carries). */
import { randomBytes } from 'node:crypto';
import { DomainError } from './errors';
import { DEFAULT_CHANNEL, offeredBuild, ZERO_COUNTS, type Deployment, type FailurePolicy, type Firmware, type ScheduleStep } from './model';

/** Sortable, short deployment id: `dep_` + base36 time + random. */
export const newDeploymentId = (nowMs: number = Date.now()): string => `dep_${nowMs.toString(36)}${randomBytes(5).toString('hex')}`;

/** Assignment ids: same shape as deployment ids, `asg_` prefix. */
export const newAssignmentId = (nowMs: number = Date.now()): string => `asg_${nowMs.toString(36)}${randomBytes(5).toString('hex')}`;

/** A fresh random cohort seed (stored, so cohorts are stable for the deployment's life). */
export const newSeed = (): string => randomBytes(8).toString('hex');

export interface NewDeploymentArgs {
  readonly firmware: Firmware;
  /** Initial percentage; with a schedule, defaults to its first step's. */
  readonly percentage?: number;
  readonly channel?: string;
  readonly groups?: readonly string[];
  readonly seed?: string;
  readonly force?: boolean;
  readonly steps?: readonly ScheduleStep[];
  readonly policy?: FailurePolicy;
  readonly deploymentId: string;
  readonly now: string;
}

/** Whether the sweeper must visit a deployment (a schedule to advance or offers that can time out). */
export const needsSweeper = (d: Deployment): boolean => d.schedule !== undefined || d.policy?.inProgressTimeoutMinutes !== undefined;

/** Only RELEASED builds may be deployed; the deployment snapshots what devices will be offered. */
export function newDeployment(args: NewDeploymentArgs): Deployment {
  const fw = args.firmware;
  if (fw.state !== 'RELEASED') {
    throw new DomainError('conflict', 'firmware_not_released', `Build ${fw.build} is ${fw.state}; release it before deploying`);
  }
  const percentage = args.percentage ?? args.steps?.[0]?.percentage;
  if (percentage === undefined) throw new DomainError('invalid', 'missing_percentage', 'A deployment needs a percentage or a schedule');
  const policy = args.policy && Object.values(args.policy).some((v) => v !== undefined) ? args.policy : undefined;
  return {
    productId: fw.productId,
    deploymentId: args.deploymentId,
    build: fw.build,
    channel: args.channel ?? fw.channel ?? DEFAULT_CHANNEL,
    ...(args.groups?.length ? { groups: args.groups } : {}),
    percentage,
    seed: args.seed ?? newSeed(),
    ...(args.force ? { force: true } : {}),
    ...(policy ? { policy } : {}),
    ...(args.steps?.length ? { schedule: { steps: args.steps, currentStep: 0, stepStartedAt: args.now } } : {}),
    state: 'active',
    firmware: offeredBuild(fw),
    counts: { ...ZERO_COUNTS },
    createdAt: args.now,
    updatedAt: args.now,
  };
}
