#!/usr/bin/env node
/** CDK app: `npx cdk deploy`. Add `-c nag=true` to run the cdk-nag AWS Solutions checks. */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { acknowledgeNagFindings } from '../lib/nag-suppressions';
import { OtaStack } from '../lib/ota-stack';

const app = new App();
const stack = new OtaStack(app, app.node.tryGetContext('stackName') ?? 'EspOta', {
  env: process.env.CDK_DEFAULT_ACCOUNT ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } : undefined,
  description: 'ESP32 firmware-over-the-air platform',
  storage: { allowHttpDownloads: app.node.tryGetContext('allowHttpDownloads') === 'true' },
});
if (app.node.tryGetContext('nag') === 'true') {
  acknowledgeNagFindings(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}
