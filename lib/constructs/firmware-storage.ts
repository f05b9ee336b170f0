import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { OtaFunction } from './ota-function';

export interface FirmwareStorageProps {
  /**
   * Also serve plain HTTP (for ESP32 clients built without TLS). Signed URLs still protect the
   * bytes and devices verify sha256/CRC32, but prefer HTTPS.
   * @default false
   */
  readonly allowHttpDownloads?: boolean;
  /** Change this value to rotate the URL-signing key pair on the next deploy. @default '1' */
  readonly signingKeyRotation?: string;
  /** @default RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Bucket for the distribution's standard (legacy) access logs (see DownloadLogPipeline); it
   * needs ACLs enabled. @default no access logs
   */
  readonly logBucket?: s3.IBucket;
  /** Key prefix of the log files in `logBucket`. @default no prefix */
  readonly logFilePrefix?: string;
}

/**
 * Where firmware bytes live and how devices get them: a private, versioned bucket reachable only
 * through CloudFront (origin access control), which serves only URLs signed by a key pair that
 * is generated in the account and trusted through a key group.
 */
export class FirmwareStorage extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly distribution: cloudfront.Distribution;
  public readonly keyGroup: cloudfront.KeyGroup;
  public readonly publicKey: cloudfront.PublicKey;
  /** Secrets Manager secret holding the PEM private key the check function signs with. */
  public readonly signingKeySecret: secretsmanager.Secret;
  /** `https://<distribution domain>` */
  public readonly baseUrl: string;

  constructor(scope: Construct, id: string, props: FirmwareStorageProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      removalPolicy,
    });

    this.signingKeySecret = new secretsmanager.Secret(this, 'SigningKey', {
      description: 'PEM private key signing CloudFront firmware URLs (written by the SigningKeyPair custom resource)',
      removalPolicy,
    });
    const generator = new OtaFunction(this, 'SigningKeyGenerator', {
      entry: 'custom-resources/signing-key',
      description: 'Generates the CloudFront URL-signing key pair into Secrets Manager',
      timeout: Duration.minutes(1),
    });
    this.signingKeySecret.grantRead(generator);
    this.signingKeySecret.grantWrite(generator);
    const provider = new cr.Provider(this, 'SigningKeyProvider', { onEventHandler: generator });
    const keyPair = new CustomResource(this, 'SigningKeyPair', {
      serviceToken: provider.serviceToken,
      properties: { SecretId: this.signingKeySecret.secretArn, Rotation: props.signingKeyRotation ?? '1' },
    });

    this.publicKey = new cloudfront.PublicKey(this, 'SigningPublicKey', {
      encodedKey: keyPair.getAttString('PublicKeyPem'),
      comment: 'Verifies signed firmware download URLs',
    });
    this.keyGroup = new cloudfront.KeyGroup(this, 'KeyGroup', { items: [this.publicKey] });

    this.distribution = new cloudfront.Distribution(this, 'Cdn', {
      comment: 'Firmware downloads (signed URLs only)',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: props.allowHttpDownloads ? cloudfront.ViewerProtocolPolicy.ALLOW_ALL : cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
        // Keys are immutable per build, so caching is safe; signing params are not part of the cache key.
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        trustedKeyGroups: [this.keyGroup],
      },
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      ...(props.logBucket ? { enableLogging: true, logBucket: props.logBucket, logFilePrefix: props.logFilePrefix, logIncludesCookies: false } : {}),
    });
    this.baseUrl = `https://${this.distribution.distributionDomainName}`;
  }
}
