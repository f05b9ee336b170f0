import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ROUTES, type Route } from '../../lambdas/routes';
import { ENV } from '../../lambdas/shared/env';
import { DEPLOYMENTS_TABLE, DEVICES_TABLE, FIRMWARE_TABLE } from '../../lambdas/shared/table-schema';
import { StageSettings } from './access-logs';
import { OtaFunction } from './ota-function';
import type { Tables } from './tables';

export interface AdminApiProps {
  readonly tables: Tables;
  /** Operators' uploads go through the normal ingest pipeline. */
  readonly ingestBucket: s3.IBucket;
}

/**
 * The operator API: every `auth: 'iam'` route of the shared route table, all SigV4 (IAM)
 * authorised, on one admin function. Grant operators `execute-api:Invoke` on it.
 */
export class AdminApi extends Construct {
  public readonly api: apigwv2.HttpApi;
  public readonly function: OtaFunction;
  public readonly routes: readonly Route[] = ROUTES.filter((r) => r.auth === 'iam');

  constructor(scope: Construct, id: string, props: AdminApiProps) {
    super(scope, id);
    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'ESP32 OTA operator API (IAM)',
      defaultAuthorizer: new HttpIamAuthorizer(),
    });
    this.function = new OtaFunction(this, 'AdminFunction', { entry: 'handlers/admin', description: 'Operator API' })
      .bindTable(props.tables.firmware, FIRMWARE_TABLE, 'readWrite')
      .bindTable(props.tables.deployments, DEPLOYMENTS_TABLE, 'readWrite')
      .bindTable(props.tables.devices, DEVICES_TABLE, 'readWrite')
      .bindBucket(props.ingestBucket, ENV.INGEST_BUCKET, 'readPut');
    const integration = new HttpLambdaIntegration('AdminIntegration', this.function);
    for (const route of this.routes) {
      this.api.addRoutes({ path: route.path, methods: [route.method as apigwv2.HttpMethod], integration });
    }
    new StageSettings(this, 'Stage', { api: this.api, throttlingRateLimit: 50, throttlingBurstLimit: 100 });
  }

  get url(): string {
    return this.api.apiEndpoint;
  }
}
