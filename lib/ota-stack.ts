import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AdminApi } from './constructs/admin-api';
import { DeviceApi } from './constructs/device-api';
import { DownloadLogPipeline } from './constructs/download-log-pipeline';
import { FirmwareStorage, type FirmwareStorageProps } from './constructs/firmware-storage';
import { IngestPipeline } from './constructs/ingest-pipeline';
import { Observability } from './constructs/observability';
import { RolloutSweeper } from './constructs/rollout-sweeper';
import { Tables } from './constructs/tables';

export interface OtaStackProps extends StackProps {
  /** Firmware storage and CDN options (HTTP downloads, key rotation). */
  readonly storage?: Omit<FirmwareStorageProps, 'logBucket' | 'logFilePrefix'>;
}

/** The whole platform: one construct per concern, composed. */
export class OtaStack extends Stack {
  public readonly tables: Tables;
  public readonly storage: FirmwareStorage;
  public readonly ingest: IngestPipeline;
  public readonly deviceApi: DeviceApi;
  public readonly adminApi: AdminApi;
  public readonly rollouts: RolloutSweeper;
  /** The CDN's access logs and the function that turns them into download evidence. */
  public readonly downloadLogs: DownloadLogPipeline;
  /** Alarms (topic), dashboard. Created last: it watches every OtaFunction already in the stack. */
  public readonly observability: Observability;

  constructor(scope: Construct, id: string, props: OtaStackProps = {}) {
    super(scope, id, props);
    this.tables = new Tables(this, 'Tables');
    this.downloadLogs = new DownloadLogPipeline(this, 'DownloadLogs', { tables: this.tables });
    this.storage = new FirmwareStorage(this, 'FirmwareStorage', {
      ...props.storage,
      logBucket: this.downloadLogs.bucket,
      logFilePrefix: this.downloadLogs.logFilePrefix,
    });
    this.ingest = new IngestPipeline(this, 'Ingest', { tables: this.tables, storage: this.storage });
    this.deviceApi = new DeviceApi(this, 'DeviceApi', { tables: this.tables, storage: this.storage });
    this.adminApi = new AdminApi(this, 'AdminApi', { tables: this.tables, uploadFunction: this.ingest.uploadFunction });

    this.rollouts = new RolloutSweeper(this, 'Rollouts', { tables: this.tables });

    new CfnOutput(this, 'DeviceApiUrl', { value: this.deviceApi.url, description: 'Base URL devices call' });
    new CfnOutput(this, 'AdminApiUrl', { value: this.adminApi.url, description: 'Operator API (SigV4)' });
    new CfnOutput(this, 'IngestBucketName', { value: this.ingest.bucket.bucketName, description: 'CI uploads release folders here' });
    new CfnOutput(this, 'FirmwareBucketName', { value: this.storage.bucket.bucketName });
    new CfnOutput(this, 'CdnDomainName', { value: this.storage.distribution.distributionDomainName });
    new CfnOutput(this, 'CdnLogBucketName', { value: this.downloadLogs.bucket.bucketName, description: 'CloudFront standard logs (download evidence)' });
    new CfnOutput(this, 'SigningKeyPairId', { value: this.storage.publicKey.publicKeyId });

    // Keep last: it finds the stack's functions when created.
    this.observability = new Observability(this, 'Observability', {
      deviceApi: this.deviceApi.api,
      adminApi: this.adminApi.api,
      deadLetterQueue: this.ingest.deadLetterQueue,
    });
  }
}
