/**
 * Template tests: the synthesized stack has exactly the routes of the shared route table, the
 * functions are Node 22 on arm64 with log retention, grants are least privilege, and the CDN,
 * key group and ingest notification are wired. Bundling runs for real (local esbuild).
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ROUTES, routeKey } from '../../lambdas/routes';
import { OtaFunction } from '../../lib/constructs/ota-function';
import { OtaStack } from '../../lib/ota-stack';

let template: Template;
let stack: OtaStack;
beforeAll(() => {
  const app = new App();
  stack = new OtaStack(app, 'TestOta', { env: { account: '111111111111', region: 'eu-west-1' } });
  template = Template.fromStack(stack);
}, 180_000);

type Resource = { Type: string; Properties: Record<string, any> };
const resources = (type: string): [string, Resource][] =>
  Object.entries(template.toJSON().Resources as Record<string, Resource>).filter(([, r]) => r.Type === type);
const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);

/** All IAM actions granted to a function's role, flattened. */
function actionsOf(fn: { role?: { node: { defaultChild?: unknown } } }): string[] {
  const roleId = stack.getLogicalId(fn.role!.node.defaultChild as never);
  return resources('AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat()));
}

describe('routes', () => {
  it('creates every route of the route table, and nothing else', () => {
    const keys = resources('AWS::ApiGatewayV2::Route')
      .map(([, r]) => r.Properties.RouteKey)
      .sort();
    expect(keys).toEqual(ROUTES.map(routeKey).sort());
  });

  it.each(ROUTES.map((r) => [routeKey(r), r.auth] as const))('expect %s to be %s-authorised', (key, auth) => {
    const [, route] = resources('AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties.RouteKey === key)!;
    expect(route.Properties.AuthorizationType ?? 'NONE').toBe(auth === 'iam' ? 'AWS_IAM' : 'NONE');
    const apiId = auth === 'iam' ? logicalId(stack.adminApi.api) : logicalId(stack.deviceApi.api);
    expect(route.Properties.ApiId).toEqual({ Ref: apiId });
  });

  it('throttles the device API and logs access', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: logicalId(stack.deviceApi.api) },
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });
});

describe('functions', () => {
  it('runs every function on nodejs22.x arm64 with an explicit log group that has retention', () => {
    const ours = new Set(
      stack.node
        .findAll()
        .filter((c) => c instanceof OtaFunction)
        .map((c) => logicalId(c)),
    );
    const fns = resources('AWS::Lambda::Function').filter(([id]) => ours.has(id));
    expect(fns.length).toBe(ours.size);
    expect(ours.size).toBeGreaterThanOrEqual(5);
    for (const [, fn] of fns) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.LoggingConfig?.LogGroup).toBeDefined();
    }
    for (const [, lg] of resources('AWS::Logs::LogGroup')) expect(lg.Properties.RetentionInDays).toBeGreaterThan(0);
  });

  it('gives the check function the signing key, the CDN and its tables, but no bucket or secret writes', () => {
    const check = stack.deviceApi.functions.check!;
    const actions = actionsOf(check);
    expect(actions).toEqual(expect.arrayContaining(['secretsmanager:GetSecretValue', 'dynamodb:GetItem', 'dynamodb:UpdateItem']));
    expect(actions.some((a) => a.startsWith('s3:'))).toBe(false);
    expect(actions).not.toContain('secretsmanager:PutSecretValue');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ CDN_BASE_URL: Match.anyValue(), SIGNING_KEY_PAIR_ID: Match.anyValue(), SIGNING_KEY_SECRET_ID: Match.anyValue() }),
      },
    });
  });

  it('keeps the status function away from buckets (it signs heartbeat manifests, so it reads the signing key)', () => {
    const actions = actionsOf(stack.deviceApi.functions.status!);
    expect(actions.some((a) => a.startsWith('s3:'))).toBe(false);
    expect(actions.filter((a) => a.startsWith('secretsmanager:')).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
  });

  it('keeps the activation function read-only, without secrets or buckets', () => {
    const actions = actionsOf(stack.deviceApi.functions.activation!);
    expect(actions.some((a) => a.startsWith('s3:') || a.startsWith('secretsmanager:'))).toBe(false);
    expect(actions.some((a) => /dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)/.test(a))).toBe(false);
  });

  it('lets the upload function put into the firmware bucket but not read it', () => {
    const fn = stack.ingest.uploadFunction;
    const policies = resources('AWS::IAM::Policy').filter(([, p]) =>
      (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === stack.getLogicalId(fn.role!.node.defaultChild as never)),
    );
    const statements = policies.flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const firmwareBucketId = logicalId(stack.storage.bucket);
    const onFirmwareBucket = statements.filter((s) => JSON.stringify(s.Resource).includes(firmwareBucketId)).flatMap((s) => [s.Action].flat());
    expect(onFirmwareBucket).toContain('s3:PutObject');
    expect(onFirmwareBucket.some((a) => a.startsWith('s3:GetObject'))).toBe(false);
  });

  it('gives the admin function no access to the firmware bucket or the signing key', () => {
    const roleId = stack.getLogicalId(stack.adminApi.function.role!.node.defaultChild as never);
    const json = JSON.stringify(resources('AWS::IAM::Policy').filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId)));
    expect(json).not.toContain(logicalId(stack.storage.bucket));
    expect(json).not.toContain('secretsmanager');
  });
});

describe('platform build signing', () => {
  /** The statements of every function role's policy that name a KMS action, with the functions holding them. */
  const kmsGrants = () =>
    stack.node
      .findAll()
      .filter((c): c is OtaFunction => c instanceof OtaFunction)
      .map((fn) => [fn.node.path, actionsOf(fn).filter((a) => a.startsWith('kms:'))] as const)
      .filter(([, actions]) => actions.length > 0);

  it('expect an asymmetric ECC_NIST_P256 sign/verify key, retained when the stack goes', () => {
    template.hasResource('AWS::KMS::Key', {
      Properties: { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' },
      DeletionPolicy: 'Retain',
    });
  });

  it('expect kms:Sign on that key for the upload function only, kms:GetPublicKey for the admin function only, and no other KMS action anywhere', () => {
    const grants = new Map(kmsGrants());
    expect([...grants.keys()].sort()).toEqual([stack.ingest.uploadFunction.node.path, stack.adminApi.function.node.path].sort());
    expect(grants.get(stack.ingest.uploadFunction.node.path)).toEqual(['kms:Sign']);
    expect(grants.get(stack.adminApi.function.node.path)).toEqual(['kms:GetPublicKey']);
    const keyId = logicalId(stack.buildSigning!.key);
    const statement = resources('AWS::IAM::Policy')
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
      .find((st) => [st.Action].flat().includes('kms:Sign'))!;
    expect(statement.Resource).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  });

  it('expect the signing functions to know the key by its ARN', () => {
    for (const fn of [stack.ingest.uploadFunction, stack.adminApi.function]) {
      const [, props] = resources('AWS::Lambda::Function').find(([id]) => id === logicalId(fn))!;
      expect(props.Properties.Environment.Variables.PLATFORM_SIGNING_KEY_ARN).toEqual({ 'Fn::GetAtt': [logicalId(stack.buildSigning!.key), 'Arn'] });
    }
  });

  it('expect no key and no KMS grant when platform signing is off', () => {
    const off = new OtaStack(new App(), 'NoSigning', { env: { account: '111111111111', region: 'eu-west-1' }, platformSigning: false });
    const t = Template.fromStack(off);
    // (The alarm topic's symmetric key stays: it is not a signing key.)
    expect(Object.values(t.findResources('AWS::KMS::Key')).filter((k) => k.Properties.KeySpec === 'ECC_NIST_P256')).toEqual([]);
    expect(JSON.stringify(t.findResources('AWS::IAM::Policy'))).not.toMatch(/kms:(Sign|GetPublicKey)/);
  });
});

describe('rollout sweeper', () => {
  it('runs the rollout function every minute', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(stack.rollouts.function), 'Arn'] } })]),
    });
  });

  it('lets the rollout function touch only the deployments and devices tables (a timeout settles the device offer)', () => {
    const roleId = stack.getLogicalId(stack.rollouts.function.role!.node.defaultChild as never);
    const statements = resources('AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Resource: unknown }[]);
    const text = JSON.stringify(statements);
    expect(text).toContain(logicalId(stack.tables.deployments));
    expect(text).toContain(logicalId(stack.tables.devices));
    for (const other of [stack.tables.firmware, stack.storage.bucket]) expect(text).not.toContain(logicalId(other));
    expect(actionsOf(stack.rollouts.function).some((a) => a.startsWith('secretsmanager:') || a.startsWith('s3:'))).toBe(false);
  });
});

describe('downloads', () => {
  it('trusts exactly one key group holding the generated public key', () => {
    template.resourceCountIs('AWS::CloudFront::KeyGroup', 1);
    template.hasResourceProperties('AWS::CloudFront::PublicKey', {
      PublicKeyConfig: Match.objectLike({ EncodedKey: { 'Fn::GetAtt': [Match.stringLikeRegexp('SigningKeyPair'), 'PublicKeyPem'] } }),
    });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({
          TrustedKeyGroups: [{ Ref: logicalId(stack.storage.keyGroup) }],
          ViewerProtocolPolicy: 'https-only',
          AllowedMethods: ['GET', 'HEAD'],
        }),
      }),
    });
  });

  it('reaches the firmware bucket only through origin access control', () => {
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(stack.storage.bucket) },
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 's3:GetObject' })]),
      }),
    });
  });

  it('never puts a private key in the template', () => {
    expect(JSON.stringify(template.toJSON())).not.toContain('PRIVATE KEY');
  });
});

describe('ingest', () => {
  it('invokes the upload function for manifest.json and the files a manifest may wait for (.bin, .ufw), never result.json', () => {
    const rule = (suffix: string) =>
      Match.objectLike({
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: suffix }] } },
        LambdaFunctionArn: { 'Fn::GetAtt': [logicalId(stack.ingest.uploadFunction), 'Arn'] },
      });
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: logicalId(stack.ingest.bucket) },
      NotificationConfiguration: { LambdaFunctionConfigurations: [rule('manifest.json'), rule('.bin'), rule('.ufw')] },
    });
  });

  it('sends failed asynchronous invocations to an encrypted dead-letter queue after two retries', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(stack.ingest.deadLetterQueue), 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
  });
});

describe('download logs', () => {
  it('expect the distribution to deliver standard logs to the log bucket under the prefix when the stack is built', () => {
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Logging: {
          Bucket: { 'Fn::GetAtt': [logicalId(stack.downloadLogs.bucket), 'RegionalDomainName'] },
          Prefix: 'cdn/',
          IncludeCookies: false,
        },
      }),
    });
  });

  it('expect the log bucket to keep ACLs (bucket owner preferred) and expire logs after 30 days when CloudFront writes to it', () => {
    const [, bucket] = resources('AWS::S3::Bucket').find(([id]) => id === logicalId(stack.downloadLogs.bucket))!;
    expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] });
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual(
      expect.arrayContaining([expect.objectContaining({ ExpirationInDays: 30, Status: 'Enabled' })]),
    );
  });

  it('expect the download-log function to be invoked for .gz objects created under the prefix only', () => {
    const [, notifications] = resources('Custom::S3BucketNotifications').find(
      ([, r]) => r.Properties.BucketName?.Ref === logicalId(stack.downloadLogs.bucket),
    )!;
    const configs = notifications.Properties.NotificationConfiguration.LambdaFunctionConfigurations as {
      Events: string[];
      Filter: { Key: { FilterRules: { Name: string; Value: string }[] } };
      LambdaFunctionArn: unknown;
    }[];
    expect(configs).toHaveLength(1);
    expect(configs[0]!.Events).toEqual(['s3:ObjectCreated:*']);
    expect(configs[0]!.LambdaFunctionArn).toEqual({ 'Fn::GetAtt': [logicalId(stack.downloadLogs.function), 'Arn'] });
    const rules = Object.fromEntries(configs[0]!.Filter.Key.FilterRules.map((r) => [r.Name, r.Value]));
    expect(rules).toEqual({ prefix: 'cdn/', suffix: '.gz' });
  });

  it('expect the download-log function to read only log objects under the prefix, and touch only the devices and deployments tables', () => {
    const roleId = stack.getLogicalId(stack.downloadLogs.function.role!.node.defaultChild as never);
    const statements = resources('AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const s3Statements = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')));
    expect(s3Statements).toEqual([
      expect.objectContaining({
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(stack.downloadLogs.bucket), 'Arn'] }, '/cdn/*']] },
      }),
    ]);
    const text = JSON.stringify(statements);
    expect(text).toContain(logicalId(stack.tables.devices));
    expect(text).toContain(logicalId(stack.tables.deployments));
    for (const other of [stack.tables.firmware, stack.storage.bucket, stack.ingest.bucket]) expect(text).not.toContain(logicalId(other));
    expect(actionsOf(stack.downloadLogs.function).some((a) => a.startsWith('secretsmanager:'))).toBe(false);
  });

  it('expect the download-log function to know its bucket and prefix when deployed', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          CDN_LOG_BUCKET: { Ref: logicalId(stack.downloadLogs.bucket) },
          CDN_LOG_PREFIX: 'cdn/',
          DEVICES_TABLE: Match.anyValue(),
          DEPLOYMENTS_TABLE: Match.anyValue(),
        }),
      },
    });
  });

  it('expect failed log-file invocations to be retried twice', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(stack.downloadLogs.function) },
      MaximumRetryAttempts: 2,
    });
  });
});

describe('buckets', () => {
  it('block public access, encrypt and enforce TLS on every bucket', () => {
    const buckets = resources('AWS::S3::Bucket');
    expect(buckets).toHaveLength(3);
    for (const [id, b] of buckets) {
      expect(b.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(b.Properties.BucketEncryption).toBeDefined();
      // Firmware and uploads keep every version; CloudFront log files are written once and expire.
      if (id !== logicalId(stack.downloadLogs.bucket)) expect(b.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      const policy = resources('AWS::S3::BucketPolicy').find(([, p]) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: id }));
      expect(JSON.stringify(policy?.[1].Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });

  it('keeps tables on-demand with point-in-time recovery', () => {
    const tables = resources('AWS::DynamoDB::Table');
    expect(tables).toHaveLength(3);
    for (const [, t] of tables) {
      expect(t.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(t.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    }
  });
});
