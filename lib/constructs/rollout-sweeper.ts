import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { DEPLOYMENTS_TABLE, DEVICES_TABLE } from '../../lambdas/shared/table-schema';
import { OtaFunction } from './ota-function';
import type { Tables } from './tables';

export interface RolloutSweeperProps {
  readonly tables: Tables;
  /** How often the sweeper runs. @default 1 minute */
  readonly interval?: Duration;
}

/**
 * The rollout sweeper on a schedule: counts timed-out offers, lets failure policies pause
 * deployments, advances scheduled canaries. It reads and writes the deployments table (watch
 * list, in-flight index, counters) and the devices table (a timeout settles the device's offer, so
 * it races fairly with reports); each run is idempotent, so an overlap is harmless.
 */
export class RolloutSweeper extends Construct {
  public readonly function: OtaFunction;
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: RolloutSweeperProps) {
    super(scope, id);
    this.function = new OtaFunction(this, 'RolloutFunction', {
      entry: 'handlers/rollout',
      description: 'Rollout sweeper: timeouts, auto-pause, canary steps',
      timeout: Duration.seconds(50),
    })
      .bindTable(props.tables.deployments, DEPLOYMENTS_TABLE, 'readWrite')
      .bindTable(props.tables.devices, DEVICES_TABLE, 'readWrite');
    // One sweep at a time: steps and timeouts are conditional anyway, but overlapping runs would only waste reads.
    this.rule = new events.Rule(this, 'Schedule', {
      schedule: events.Schedule.rate(props.interval ?? Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
    });
  }
}
