import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ROUTES, type Route } from '../../lambdas/routes';
import { DEPLOYMENTS_TABLE, DEVICES_TABLE, FIRMWARE_TABLE } from '../../lambdas/shared/table-schema';
import { StageSettings } from './access-logs';
import { OtaFunction } from './ota-function';
import type { Tables } from './tables';

export interface AdminApiProps {
  readonly tables: Tables;
  /** Serves operator routes whose function is `upload` (IoTaaP firmware upload into the ingest pipeline). */
  readonly uploadFunction: lambda.IFunction;
}

/**
 * The operator API: every `auth: 'iam'` route of the shared route table, all SigV4 (IAM)
 * authorised, on the admin function (and the upload function for IoTaaP's firmware upload). Grant operators `execute-api:Invoke` on it.
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
      .bindTable(props.tables.devices, DEVICES_TABLE, 'readWrite');
    const adminIntegration = new HttpLambdaIntegration('AdminIntegration', this.function);
    const uploadIntegration = new HttpLambdaIntegration('UploadIntegration', props.uploadFunction);
    for (const route of this.routes) {
      if (route.fn !== 'admin' && route.fn !== 'upload') throw new Error(`No operator function for ${route.method} ${route.path} (${route.fn})`);
      const integration = route.fn === 'upload' ? uploadIntegration : adminIntegration;
      this.api.addRoutes({ path: route.path, methods: [route.method as apigwv2.HttpMethod], integration });
    }
    new StageSettings(this, 'Stage', { api: this.api, throttlingRateLimit: 50, throttlingBurstLimit: 100 });
  }

  get url(): string {
    return this.api.apiEndpoint;
  }
}
