import { Duration } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Construct } from 'constructs';
import { ROUTES, type FunctionName, type Route } from '../../lambdas/routes';
import { ENV } from '../../lambdas/shared/env';
import { DEPLOYMENTS_TABLE, DEVICES_TABLE, FIRMWARE_TABLE } from '../../lambdas/shared/table-schema';
import { StageSettings } from './access-logs';
import type { FirmwareStorage } from './firmware-storage';
import { OtaFunction } from './ota-function';
import type { Tables } from './tables';

export interface DeviceApiProps {
  readonly tables: Tables;
  readonly storage: FirmwareStorage;
  /** Lifetime of signed download URLs. @default 15 minutes */
  readonly urlTtl?: Duration;
  /** Steady-state request rate across the fleet (requests/second). @default 500 */
  readonly throttlingRateLimit?: number;
  /** @default 1000 */
  readonly throttlingBurstLimit?: number;
}

/**
 * The HTTP API devices talk to: every `auth: 'none'` route of the shared route table, each on its
 * single-purpose function. Device credentials (security modes) are checked by the handlers.
 */
export class DeviceApi extends Construct {
  public readonly api: apigwv2.HttpApi;
  public readonly functions: Partial<Record<FunctionName, OtaFunction>> = {};
  public readonly routes: readonly Route[] = ROUTES.filter((r) => r.auth === 'none');

  constructor(scope: Construct, id: string, props: DeviceApiProps) {
    super(scope, id);
    const { tables, storage } = props;
    this.api = new apigwv2.HttpApi(this, 'Api', { description: 'ESP32 OTA device API' });

    /** Lets a function sign CDN URLs: key pair id, secret ARN and TTL in env, read on the secret. */
    const bindSigner = (fn: OtaFunction): OtaFunction => {
      fn.addEnvironment(ENV.CDN_BASE_URL, storage.baseUrl);
      fn.addEnvironment(ENV.SIGNING_KEY_PAIR_ID, storage.publicKey.publicKeyId);
      fn.addEnvironment(ENV.SIGNING_KEY_SECRET_ID, storage.signingKeySecret.secretArn);
      fn.addEnvironment(ENV.URL_TTL_SECONDS, String((props.urlTtl ?? Duration.minutes(15)).toSeconds()));
      storage.signingKeySecret.grantRead(fn);
      return fn;
    };
    const factories: Partial<Record<FunctionName, () => OtaFunction>> = {
      check: () =>
        bindSigner(
          new OtaFunction(this, 'CheckFunction', { entry: 'handlers/check', description: 'Device update checks (every device protocol)', memorySize: 512 }),
        )
          .bindTable(tables.firmware, FIRMWARE_TABLE, 'read')
          .bindTable(tables.deployments, DEPLOYMENTS_TABLE, 'readWrite') // offer counters
          .bindTable(tables.devices, DEVICES_TABLE, 'readWrite'),
      // Signs too: Bota's heartbeat carries the manifest of a pending assignment.
      status: () =>
        bindSigner(new OtaFunction(this, 'StatusFunction', { entry: 'handlers/status', description: 'Device progress reports and heartbeats' }))
          .bindTable(tables.firmware, FIRMWARE_TABLE, 'read')
          .bindTable(tables.deployments, DEPLOYMENTS_TABLE, 'readWrite')
          .bindTable(tables.devices, DEVICES_TABLE, 'readWrite'),
      activation: () =>
        new OtaFunction(this, 'ActivationFunction', { entry: 'handlers/activation', description: 'Cheeko activation checks' })
          .bindTable(tables.firmware, FIRMWARE_TABLE, 'read') // product + alias lookups
          .bindTable(tables.devices, DEVICES_TABLE, 'read'),
    };

    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    for (const route of this.routes) {
      let integration = integrations.get(route.fn);
      if (!integration) {
        const factory = factories[route.fn];
        if (!factory) throw new Error(`No device function for route ${route.method} ${route.path} (${route.fn})`);
        const fn = factory();
        this.functions[route.fn] = fn;
        integration = new HttpLambdaIntegration(`${route.fn}Integration`, fn);
        integrations.set(route.fn, integration);
      }
      this.api.addRoutes({ path: route.path, methods: [route.method as apigwv2.HttpMethod], integration });
    }

    // Throttle the whole fleet (a retry storm must not become a bill) and keep access logs.
    new StageSettings(this, 'Stage', {
      api: this.api,
      throttlingRateLimit: props.throttlingRateLimit ?? 500,
      throttlingBurstLimit: props.throttlingBurstLimit ?? 1000,
    });
  }

  /** `https://<api id>.execute-api.<region>.amazonaws.com` */
  get url(): string {
    return this.api.apiEndpoint;
  }
}
