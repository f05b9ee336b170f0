import { Validations, type IResolvable } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { OtaStack } from './ota-stack';

/**
 * cdk-nag (AWS Solutions pack) findings we accept — each acknowledged on the narrowest construct
 * it concerns, with the reason. cdk-nag 3 uses CDK's native `Validations.of().acknowledge()`, and
 * multi-finding rules (IAM4/IAM5) are acknowledged finding by finding. Anything not listed here
 * fails test/lib/nag.test.ts.
 */
export function acknowledgeNagFindings(stack: OtaStack): void {
  const ack = (scope: IConstruct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });
  const ref = (c: IConstruct) =>
    stack.resolve((c.node.defaultChild as unknown as { ref: string | IResolvable }).ref)?.Ref ?? stack.getLogicalId(c.node.defaultChild as never);
  const { storage, ingest, deviceApi, adminApi } = stack;
  const functions = [
    storage.node.findChild('SigningKeyGenerator'),
    ingest.uploadFunction,
    ...Object.values(deviceApi.functions),
    adminApi.function,
    stack.rollouts.function,
    stack.downloadLogs.function,
  ];

  // Every Lambda: logs via the AWS-managed basic execution role; runtime pinned to Node 22 (the design card).
  for (const fn of functions) {
    ack(fn, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', 'CloudWatch Logs permissions only.');
    ack(fn, 'AwsSolutions-L1', 'Runtime pinned to nodejs22.x: the platform is built and tested on Node 22.');
  }
  ack(
    stack,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'CDK-owned helper functions (bucket notifications, custom-resource provider) log only.',
  );
  const generatorRef = ref(storage.node.findChild('SigningKeyGenerator'));
  ack(storage, `AwsSolutions-IAM5[Resource::<${generatorRef}.Arn>:*]`, 'The custom-resource provider may invoke any version of its own handler.');

  // Storage and delivery.
  ack(storage.bucket, 'AwsSolutions-S1', 'Server access logs are left to the installer (cost); CloudTrail data events cover audits.');
  ack(ingest.bucket, 'AwsSolutions-S1', 'Server access logs are left to the installer (cost); every upload already gets a result.json.');
  ack(storage.signingKeySecret, 'AwsSolutions-SMG4', 'Rotate with the signingKeyRotation prop so the secret and the CloudFront key group change together.');
  ack(storage.distribution, 'AwsSolutions-CFR1', 'Geo restrictions depend on where the fleet is deployed; left to the installer.');
  ack(storage.distribution, 'AwsSolutions-CFR2', 'Only URLs signed by our key group are served; WAF is optional.');
  ack(
    storage.distribution,
    'AwsSolutions-CFR4',
    'The default *.cloudfront.net certificate is used (its TLS policy is fixed by CloudFront); add a custom domain + certificate to pin TLSv1.2_2021.',
  );
  ack(ingest.deadLetterQueue, 'AwsSolutions-SQS3', 'This queue is the dead-letter queue.');
  ack(
    stack.downloadLogs.bucket,
    'AwsSolutions-S1',
    'This bucket is the access-log destination (CloudFront standard logs); logging its own accesses would only add cost.',
  );

  // Grants made by CDK's grant helpers, scoped to one bucket's objects or one table's indexes.
  const ingestRef = ref(ingest.bucket);
  const firmwareRef = ref(storage.bucket);
  for (const scope of [ingest.uploadFunction]) {
    for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:Abort*']) {
      ack(scope, `AwsSolutions-IAM5[Action::${action}]`, 'bucket.grantRead/grantPut on the ingest bucket only.');
    }
    ack(scope, `AwsSolutions-IAM5[Resource::<${ingestRef}.Arn>/*]`, 'Objects of the ingest bucket (release folders are not known in advance).');
  }
  ack(ingest.uploadFunction, `AwsSolutions-IAM5[Resource::<${firmwareRef}.Arn>/*]`, 'Puts new immutable build objects into the firmware bucket.');
  const logsRef = ref(stack.downloadLogs.bucket);
  ack(
    stack.downloadLogs.function,
    `AwsSolutions-IAM5[Resource::<${logsRef}.Arn>/${stack.downloadLogs.logFilePrefix}*]`,
    'GetObject on the log files under the CloudFront log prefix only (their names are per hour and unique, not known in advance).',
  );
  const devicesRef = ref(stack.tables.devices);
  for (const fn of [...Object.values(deviceApi.functions), adminApi.function, ingest.uploadFunction, stack.rollouts.function, stack.downloadLogs.function]) {
    ack(
      fn,
      `AwsSolutions-IAM5[Resource::<${devicesRef}.Arn>/index/*]`,
      'Queries of the devices table GSIs: byProduct (operator lists), byGlobalId (IoTaaP ids) (table.grant*Data).',
    );
  }

  // Device routes: devices authenticate in the handler (security modes), not with IAM or JWTs.
  for (const route of deviceApi.api.node.findAll().filter((c) => c.node.id.includes('--'))) {
    ack(route, 'AwsSolutions-APIG4', 'Device routes authenticate devices in the handler (open / product_key / device_token).');
  }
}
