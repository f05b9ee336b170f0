import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface StageSettingsProps {
  readonly api: apigwv2.HttpApi;
  /** Requests/second across all clients. */
  readonly throttlingRateLimit: number;
  readonly throttlingBurstLimit: number;
  /** @default one month */
  readonly retention?: logs.RetentionDays;
}

/** Throttling and JSON access logs on an HTTP API's default stage (the L2 exposes neither). */
export class StageSettings extends Construct {
  public readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: StageSettingsProps) {
    super(scope, id);
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.retention ?? logs.RetentionDays.ONE_MONTH });
    const stage = props.api.defaultStage!.node.defaultChild as apigwv2.CfnStage;
    stage.defaultRouteSettings = { throttlingRateLimit: props.throttlingRateLimit, throttlingBurstLimit: props.throttlingBurstLimit };
    stage.accessLogSettings = {
      destinationArn: this.accessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        caller: '$context.identity.caller',
        routeKey: '$context.routeKey',
        status: '$context.status',
        latency: '$context.responseLatency',
        integrationError: '$context.integrationErrorMessage',
      }),
    };
  }
}
