import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/env';
import { DEPLOYMENTS_TABLE, DEVICES_TABLE } from '../../lambdas/shared/table-schema';
import { OtaFunction } from './ota-function';
import type { Tables } from './tables';

export interface DownloadLogPipelineProps {
  /** The platform's tables: the function marks offers on `devices` and counts them on `deployments`. */
  readonly tables: Tables;
  /**
   * Key prefix CloudFront writes its standard log files under (and the only keys the function
   * may read). Must end with `/`.
   * @default 'cdn/'
   */
  readonly logFilePrefix?: string;
  /** How long log files are kept (they are only read once, minutes after delivery). @default 30 days */
  readonly logRetention?: Duration;
  /** @default RETAIN (like the other buckets; its objects expire after `logRetention`) */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Downloads as evidence in the cloud: the CDN's standard (legacy) access logs land in a private
 * log bucket, and each new log file invokes the download-log function, which marks completed
 * app-image downloads on the devices' open offers (the local edge reports them directly). Give
 * `bucket` and `logFilePrefix` to the distribution (FirmwareStorageProps) to switch the logs on.
 *
 * CloudFront delivers standard logs with an ACL grant to its log-delivery account, so the bucket
 * keeps ACLs enabled (BUCKET_OWNER_PREFERRED: the objects are still ours); public access stays blocked.
 */
export class DownloadLogPipeline extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly logFilePrefix: string;
  public readonly function: OtaFunction;

  constructor(scope: Construct, id: string, props: DownloadLogPipelineProps) {
    super(scope, id);
    this.logFilePrefix = props.logFilePrefix ?? 'cdn/';
    if (!this.logFilePrefix.endsWith('/') || this.logFilePrefix.startsWith('/'))
      throw new Error(`logFilePrefix must end with "/" and not start with one: "${this.logFilePrefix}"`);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      enforceSSL: true,
      lifecycleRules: [{ expiration: props.logRetention ?? Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.function = new OtaFunction(this, 'DownloadLogFunction', {
      entry: 'handlers/download-log',
      description: 'Reads CloudFront standard logs: completed firmware downloads become evidence on device offers',
      memorySize: 512,
    })
      // An offer is marked downloaded on the device item, counted on its deployment; a resumed
      // (206) download reads the product's deployments for the image size.
      .bindTable(props.tables.devices, DEVICES_TABLE, 'readWrite')
      .bindTable(props.tables.deployments, DEPLOYMENTS_TABLE, 'readWrite');
    // Read the log files, nothing else: GetObject under the prefix (no list, no other keys, no writes).
    this.function.addEnvironment(ENV.CDN_LOG_BUCKET, this.bucket.bucketName).addEnvironment(ENV.CDN_LOG_PREFIX, this.logFilePrefix);
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects(`${this.logFilePrefix}*`)] }));

    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(this.function), { prefix: this.logFilePrefix, suffix: '.gz' });
    // Faults are retried (twice, Lambda's default made explicit); evidence six hours late is still useful, older is dropped.
    new lambda.EventInvokeConfig(this, 'AsyncConfig', { function: this.function, retryAttempts: 2, maxEventAge: Duration.hours(6) });
  }
}
