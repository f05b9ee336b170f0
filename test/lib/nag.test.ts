/** cdk-nag AWS Solutions checks: zero unacknowledged findings; every acknowledgement carries a reason. */
import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { acknowledgeNagFindings } from '../../lib/nag-suppressions';
import { OtaStack } from '../../lib/ota-stack';

it('passes the AWS Solutions checks with only the acknowledged, reasoned findings', () => {
  const app = new App();
  const stack = new OtaStack(app, 'NagOta', { env: { account: '111111111111', region: 'eu-west-1' } });
  acknowledgeNagFindings(stack);
  const report = new AwsSolutionsChecks().validateScope(stack);
  const open = report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} at ${(r as { constructPath?: string }).constructPath ?? r.resourceLogicalId}`),
  );
  expect(open).toEqual([]);
}, 120_000);
