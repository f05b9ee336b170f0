import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { INGEST_TRIGGER_SUFFIXES } from '../../lambdas/core/manifest';
import { ENV } from '../../lambdas/shared/env';
import { DEVICES_TABLE, FIRMWARE_TABLE } from '../../lambdas/shared/table-schema';
import type { FirmwareStorage } from './firmware-storage';
import { OtaFunction } from './ota-function';
import type { Tables } from './tables';

export interface IngestPipelineProps {
  readonly tables: Tables;
  readonly storage: FirmwareStorage;
  /** How long superseded ingest objects (re-uploads, rejected releases) are kept. @default 90 days */
  readonly noncurrentVersionRetention?: Duration;
  /** @default RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * CI's entry point: an ingest bucket whose `manifest.json` objects trigger the upload function,
 * which validates and records a release; `.bin` / `.ufw` objects trigger it too, so a manifest
 * uploaded before its files (any upload order) is re-evaluated when they land. Failed asynchronous invocations (after Lambda's two
 * retries) land in a dead-letter queue — nothing is lost.
 */
export class IngestPipeline extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly uploadFunction: OtaFunction;
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: IngestPipelineProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      // Rejected uploads keep their objects; re-uploads keep the superseded versions.
      versioned: true,
      lifecycleRules: [{ noncurrentVersionExpiration: props.noncurrentVersionRetention ?? Duration.days(90) }],
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.deadLetterQueue = new sqs.Queue(this, 'UploadDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    this.uploadFunction = new OtaFunction(this, 'UploadFunction', {
      entry: 'handlers/upload',
      description: 'Validates and records firmware releases (ingest bucket events; IoTaaP HTTP uploads)',
      memorySize: 1024,
      timeout: Duration.minutes(5),
    });
    this.uploadFunction
      .bindBucket(this.bucket, ENV.INGEST_BUCKET, 'readPut') // reads the release, writes result.json (and IoTaaP uploads)
      .bindBucket(props.storage.bucket, ENV.FIRMWARE_BUCKET, 'put') // copies accepted files, never reads
      .bindTable(props.tables.firmware, FIRMWARE_TABLE, 'readWrite')
      .bindTable(props.tables.devices, DEVICES_TABLE, 'readWrite'); // manifest `assign_to`; IoTaaP device lookup
    this.notifyOnManifest(this.uploadFunction);
  }

  /**
   * Wires event + invoke permission + async failure handling together: `manifest.json`, `.bin`
   * and `.ufw` objects created in the ingest bucket invoke `fn` (never `result.json`, which the
   * function writes itself); two retries, then the dead-letter queue.
   */
  notifyOnManifest(fn: lambda.IFunction): void {
    const destination = new s3n.LambdaDestination(fn);
    for (const suffix of INGEST_TRIGGER_SUFFIXES) this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, destination, { suffix });
    new lambda.EventInvokeConfig(this, `${fn.node.id}AsyncConfig`, {
      function: fn,
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });
  }
}
