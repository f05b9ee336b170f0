import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AdminApi } from './constructs/admin-api';
import { BuildSigning } from './constructs/build-signing';
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
  /**
   * Create the platform's KMS build-signing key, so products can turn `platform_signing` on without
   * a redeploy (an asymmetric KMS key costs about 1 USD a month). false: no key, and a product PUT
   * with `platform_signing: true` answers 409 `platform_signing_unavailable`.
   * @default true
   */
  readonly platformSigning?: boolean;
}

/** The whole platform: one construct per concern, composed. */
export class OtaStack extends Stack {
  public readonly tables: Tables;
  public readonly storage: FirmwareStorage;
  public readonly ingest: IngestPipeline;
  public readonly deviceApi: DeviceApi;
  public readonly adminApi: AdminApi;
  public readonly rollouts: RolloutSweeper;
  /** The KMS key of platform build signing (absent when `platformSigning: false`). */
  public readonly buildSigning?: BuildSigning;
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

    if (props.platformSigning ?? true) {
      this.buildSigning = new BuildSigning(this, 'BuildSigning');
      this.ingest.uploadFunction.bindBuildSigningKey(this.buildSigning.key, 'sign');
      this.adminApi.function.bindBuildSigningKey(this.buildSigning.key, 'publicKey');
      new CfnOutput(this, 'BuildSigningKeyArn', { value: this.buildSigning.key.keyArn, description: 'KMS key of platform build signing (ECC_NIST_P256)' });
    }

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
