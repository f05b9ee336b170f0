import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/env';
import type { TableSpec } from '../../lambdas/shared/table-schema';
import { functionTimeoutSeconds } from '../../lambdas/shared/timeouts';

/** Repository root (this file is lib/constructs/ota-function.ts). */
export const REPO_ROOT = join(__dirname, '..', '..');

export interface OtaFunctionProps {
  /** Entry file under `lambdas/`, without extension, e.g. `handlers/check`. */
  readonly entry: string;
  readonly description: string;
  /** @default 256 */
  readonly memorySize?: number;
  /**
   * @default the handler's entry in lambdas/shared/timeouts.ts (shared with the local gateway and
   * the AWS clients' budgets), else 10 seconds
   */
  readonly timeout?: Duration;
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
  readonly environment?: Record<string, string>;
}

/**
 * The one base function of the platform: Node.js 22 on arm64, bundled by the local esbuild
 * (minified, source maps, the AWS SDK bundled so versions are pinned), an explicit log group with
 * retention. `bindTable` / `bindBucket` set the environment variable and the grant together, so
 * configuration and permissions can never disagree.
 */
export class OtaFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: OtaFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      entry: join(REPO_ROOT, 'lambdas', `${props.entry}.ts`),
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(functionTimeoutSeconds(props.entry.replace(/^handlers\//, '')) ?? 10),
      logGroup,
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        minify: true,
        sourceMap: true,
        target: 'node22',
        format: OutputFormat.CJS,
        // Bundle everything: pinned SDK versions, and cloudfront-signer is not in the runtime.
        externalModules: [],
      },
    });
  }

  /** Gives the function a table: its name in `spec.envVar` and exactly the access asked for. */
  bindTable(table: dynamodb.ITable, spec: TableSpec, access: 'read' | 'readWrite'): this {
    this.addEnvironment(spec.envVar, table.tableName);
    if (access === 'read') table.grantReadData(this);
    else table.grantReadWriteData(this);
    return this;
  }

  /**
   * Gives the function the platform's build-signing key: its ARN in PLATFORM_SIGNING_KEY_ARN and
   * one action on it — `sign` (kms:Sign: the upload function signs accepted builds) or `publicKey`
   * (kms:GetPublicKey: the admin function registers the key with a product). Nothing can decrypt,
   * and no function holds both.
   */
  bindBuildSigningKey(key: kms.IKey, access: 'sign' | 'publicKey'): this {
    this.addEnvironment(ENV.PLATFORM_SIGNING_KEY_ARN, key.keyArn);
    key.grant(this, access === 'sign' ? 'kms:Sign' : 'kms:GetPublicKey');
    return this;
  }

  /**
   * Gives the function a bucket: its name in `envVar` and exactly the access asked for. There is
   * deliberately no delete: nothing in the platform deletes firmware or uploads.
   */
  bindBucket(bucket: s3.IBucket, envVar: string, access: 'read' | 'put' | 'readPut'): this {
    this.addEnvironment(envVar, bucket.bucketName);
    if (access !== 'put') bucket.grantRead(this);
    if (access !== 'read') bucket.grantPut(this);
    return this;
  }
}
