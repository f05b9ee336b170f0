/**
 * Template tests for the Observability construct: an alarm per function, 5xx alarms per HTTP
 * API, the dead-letter and auto-pause alarms, all notifying one (encrypted, TLS-only) topic, and
 * the dashboard. The whole OtaStack is synthesized once (bundling is slow); the construct's own
 * options are tested on a small stack without bundling.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FLEET_DIMENSIONS, METRIC } from '../../lambdas/shared/metrics';
import { FUNCTION_TIMEOUT_SECONDS } from '../../lambdas/shared/timeouts';
import { Observability } from '../../lib/constructs/observability';
import { OtaFunction } from '../../lib/constructs/ota-function';
import { OtaStack } from '../../lib/ota-stack';

type Resource = { Type: string; Properties: Record<string, any> };
const resourcesOf = (t: Template, type: string): [string, Resource][] =>
  Object.entries(t.toJSON().Resources as Record<string, Resource>).filter(([, r]) => r.Type === type);
/** The dashboard body with every CloudFormation token replaced by a placeholder, parsed. */
const dashboardBody = (t: Template): { widgets: { type: string; properties: Record<string, any> }[] } => {
  const [[, dashboard]] = resourcesOf(t, 'AWS::CloudWatch::Dashboard') as [[string, Resource]];
  const body = dashboard.Properties.DashboardBody;
  const text = typeof body === 'string' ? body : (body['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('');
  return JSON.parse(text);
};

let template: Template;
let stack: OtaStack;
let alarms: [string, Resource][];
const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
beforeAll(() => {
  const app = new App();
  stack = new OtaStack(app, 'ObsOta', { env: { account: '111111111111', region: 'eu-west-1' } });
  template = Template.fromStack(stack);
  alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm');
}, 180_000);

describe('OtaStack observability', () => {
  it('expect the stack to expose its Observability construct', () => {
    expect(stack.observability).toBeInstanceOf(Observability);
  });

  describe('function alarms', () => {
    it('expect an errors alarm for every OtaFunction in the stack', () => {
      const fns = stack.node.findAll().filter((c): c is OtaFunction => c instanceof OtaFunction);
      expect(fns.length).toBeGreaterThanOrEqual(5);
      const watched = alarms.filter(([, a]) => a.Properties.Namespace === 'AWS/Lambda' && a.Properties.MetricName === 'Errors');
      const watchedIds = watched.map(([, a]) => a.Properties.Dimensions[0].Value.Ref).sort();
      expect(watchedIds).toEqual(fns.map(logicalId).sort());
    });

    it.each(['check', 'status', 'activation'] as const)('expect an errors alarm on the %s function', (fn) => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack.deviceApi.functions[fn]!) } }],
      });
    });

    it('expect an errors alarm on the admin and upload functions', () => {
      for (const fn of [stack.adminApi.function, stack.ingest.uploadFunction]) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          MetricName: 'Errors',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(fn) } }],
        });
      }
    });

    it('expect a function errors alarm to fire on any error summed over 5 minutes', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack.deviceApi.functions.check!) } }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
      });
    });
  });

  describe('API alarms', () => {
    it.each([
      ['device', () => stack.deviceApi.api],
      ['admin', () => stack.adminApi.api],
    ])('expect a 5xx alarm on the %s HTTP API (AWS/ApiGateway 5xx by ApiId)', (_name, api) => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/ApiGateway',
        MetricName: '5xx',
        Dimensions: [{ Name: 'ApiId', Value: { Ref: logicalId(api()) } }],
        Statistic: 'Sum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    });

    it('expect exactly one 5xx alarm per HTTP API', () => {
      const fiveXx = alarms.filter(([, a]) => a.Properties.MetricName === '5xx');
      expect(fiveXx).toHaveLength(resourcesOf(template, 'AWS::ApiGatewayV2::Api').length);
      expect(fiveXx).toHaveLength(2);
    });
  });

  describe('pipeline alarms', () => {
    it('expect a dead-letter alarm when any message is visible in the ingest DLQ', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.ingest.deadLetterQueue), 'QueueName'] } }],
        Statistic: 'Maximum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    });

    it('expect an AutoPause alarm on the EspOta fleet-wide series (sum > 0)', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        Metrics: [Match.objectLike({ MetricStat: Match.objectLike({ Metric: { Namespace: 'EspOta', MetricName: 'AutoPause' }, Stat: 'Sum' }) })],
      });
    });

    it('expect the AutoPause alarm to query the dimension set the handlers publish (none)', () => {
      expect(FLEET_DIMENSIONS[METRIC.autoPause]).toEqual([]);
      const [[, autoPause]] = alarms.filter(([, a]) => JSON.stringify(a.Properties).includes('"AutoPause"')) as [[string, Resource]];
      expect(autoPause.Properties.Metrics[0].MetricStat.Metric.Dimensions).toBeUndefined();
    });
  });

  describe('masked fault alarm', () => {
    it('expect an alarm on the fleet-wide MaskedFault series (faults answered 200/202/404 that the 5xx alarm misses)', () => {
      expect(FLEET_DIMENSIONS[METRIC.maskedFault]).toEqual([]);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        Metrics: [Match.objectLike({ MetricStat: Match.objectLike({ Metric: { Namespace: 'EspOta', MetricName: 'MaskedFault' }, Stat: 'Sum', Period: 300 }) })],
      });
      expect(stack.observability.alarms).toContain(stack.observability.maskedFaultAlarm);
    });
  });

  describe('function timeouts', () => {
    it('expect every HTTP function to run with the timeout the local gateway enforces (lambdas/shared/timeouts.ts)', () => {
      const timeoutOf = (fn: OtaFunction) => template.toJSON().Resources[logicalId(fn)].Properties.Timeout;
      for (const fn of ['check', 'status', 'activation'] as const) expect(timeoutOf(stack.deviceApi.functions[fn]!)).toBe(FUNCTION_TIMEOUT_SECONDS[fn]);
      expect(timeoutOf(stack.adminApi.function)).toBe(FUNCTION_TIMEOUT_SECONDS.admin);
      expect(timeoutOf(stack.ingest.uploadFunction)).toBe(FUNCTION_TIMEOUT_SECONDS.upload);
    });
  });

  describe('notifications', () => {
    it('expect the number of alarms to be one per function, one per API, the DLQ, auto-pauses and masked faults', () => {
      expect(alarms).toHaveLength(stack.observability.functions.length + 2 + 3);
      expect(stack.observability.alarms).toHaveLength(alarms.length);
    });

    it('expect every alarm to notify the alarm topic on ALARM and on OK', () => {
      const topicRef = { Ref: logicalId(stack.observability.alarmTopic as sns.Topic) };
      for (const [, a] of alarms) {
        expect(a.Properties.AlarmActions).toEqual([topicRef]);
        expect(a.Properties.OKActions).toEqual([topicRef]);
      }
    });

    it('expect missing data not to breach (no traffic is not an incident)', () => {
      for (const [, a] of alarms) expect(a.Properties.TreatMissingData).toBe('notBreaching');
    });

    it('expect every alarm to carry a description for the notification', () => {
      for (const [, a] of alarms) expect(a.Properties.AlarmDescription).toEqual(expect.any(String));
    });

    it('expect one alarm topic, encrypted with a rotating customer-managed key', () => {
      template.resourceCountIs('AWS::SNS::Topic', 1);
      const keyId = logicalId(stack.observability.alarmTopicKey!);
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    });

    it('expect CloudWatch alarms to be allowed to use the topic key and to publish', () => {
      template.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: Match.objectLike({
          Statement: Match.arrayWith([
            Match.objectLike({
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': '111111111111' } }),
            }),
          ]),
        }),
      });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: Match.objectLike({
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' })]),
        }),
      });
    });

    it('expect the topic to refuse publishing without TLS', () => {
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: Match.objectLike({
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        }),
      });
    });

    it('expect the alarm topic ARN as a stack output', () => {
      const outputs = Object.values(template.toJSON().Outputs as Record<string, { Value: unknown }>);
      expect(outputs.map((o) => o.Value)).toContainEqual({ Ref: logicalId(stack.observability.alarmTopic as sns.Topic) });
    });
  });

  describe('dashboard', () => {
    it('expect one dashboard', () => {
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    });

    it.each([
      ['checks', /check/i],
      ['offers', /offer/i],
      ['outcomes', /outcome/i],
      ['ingest', /ingest/i],
      ['API latency', /API latency/],
      ['API errors', /API errors/],
      ['function errors', /Function errors/],
    ])('expect a widget for %s', (_name, title) => {
      const titles = dashboardBody(template).widgets.map((w) => w.properties.title as string);
      expect(titles.some((t) => title.test(t))).toBe(true);
    });

    it.each([METRIC.check, METRIC.outcome, METRIC.ingest])('expect the %s widget to search the fleet-wide dimension set the handlers publish', (name) => {
      const schema = ['EspOta', ...FLEET_DIMENSIONS[name]].join(',');
      const expressions = dashboardBody(template).widgets.flatMap((w) =>
        (w.properties.metrics ?? []).map((m: unknown[]) => (m.at(-1) as { expression?: string }).expression),
      );
      expect(expressions).toContain(`SEARCH('{${schema}} MetricName="${name}"', 'Sum', 300)`);
    });

    it('expect offers and auto-pauses charted from EspOta', () => {
      const metrics = JSON.stringify(dashboardBody(template).widgets.map((w) => w.properties.metrics));
      expect(metrics).toContain('["EspOta","Offer"');
      expect(metrics).toContain('["EspOta","AutoPause"');
    });

    it('expect API latency charted for both APIs and every function on the errors widget', () => {
      const widgets = dashboardBody(template).widgets;
      const latency = widgets.find((w) => /API latency/.test(w.properties.title))!;
      expect(latency.properties.metrics.filter((m: unknown[]) => m[0] === 'AWS/ApiGateway' && m[1] === 'Latency')).toHaveLength(4);
      const fnErrors = widgets.find((w) => /Function errors/.test(w.properties.title))!;
      expect(fnErrors.properties.metrics.filter((m: unknown[]) => m[1] === 'Errors')).toHaveLength(stack.observability.functions.length);
    });

    it('expect an alarm status widget listing every alarm', () => {
      const status = dashboardBody(template).widgets.find((w) => w.type === 'alarm')!;
      expect(status.properties.alarms).toHaveLength(alarms.length);
    });
  });
});

/** A small stack with no bundling: two HTTP APIs, inline functions, a queue. */
type Props = Partial<ConstructorParameters<typeof Observability>[2]>;
function smallStack(props: Props | ((s: Stack) => Props) = {}) {
  const s = new Stack(new App(), 'Small', { env: { account: '222222222222', region: 'us-east-1' } });
  const fn = (scope: Construct, id: string) =>
    new lambda.Function(scope, id, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler=async()=>1'),
    });
  const a = fn(s, 'Fn');
  const b = fn(new Construct(s, 'Other'), 'Fn');
  const obs = new Observability(s, 'Obs', {
    deviceApi: new apigwv2.HttpApi(s, 'Device'),
    adminApi: new apigwv2.HttpApi(s, 'Admin'),
    deadLetterQueue: new sqs.Queue(s, 'Dlq'),
    functions: [a, b],
    ...(typeof props === 'function' ? props(s) : props),
  });
  return { stack: s, obs, template: Template.fromStack(s), functions: [a, b] };
}

describe('Observability options', () => {
  it('expect no new topic or key when an alarm topic is given, and alarms to notify it', () => {
    let topic!: sns.Topic;
    const { template: t, stack: s, obs } = smallStack((st) => ({ alarmTopic: (topic = new sns.Topic(st, 'Ops')) }));
    expect(obs.alarmTopic).toBe(topic);
    expect(obs.alarmTopicKey).toBeUndefined();
    t.resourceCountIs('AWS::SNS::Topic', 1);
    t.resourceCountIs('AWS::KMS::Key', 0);
    const topicRef = { Ref: s.getLogicalId(topic.node.defaultChild as never) };
    for (const [, a] of resourcesOf(t, 'AWS::CloudWatch::Alarm')) expect(a.Properties.AlarmActions).toEqual([topicRef]);
  });

  it('expect a new encrypted topic when none is given', () => {
    const { template: t } = smallStack({ alarmTopic: undefined });
    t.resourceCountIs('AWS::SNS::Topic', 1);
    t.resourceCountIs('AWS::KMS::Key', 1);
  });

  it('expect the functions prop to replace discovery, one alarm per function even with equal construct ids', () => {
    const { template: t, obs, stack: s, functions } = smallStack();
    const errors = resourcesOf(t, 'AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties.MetricName === 'Errors');
    expect(errors.map(([, a]) => a.Properties.Dimensions[0].Value.Ref).sort()).toEqual(
      functions.map((f) => s.getLogicalId(f.node.defaultChild as never)).sort(),
    );
    expect(obs.functionErrorAlarms).toHaveLength(2);
  });

  it('expect no function alarms when discovering in a stack without OtaFunctions', () => {
    const { template: t } = smallStack({ functions: undefined });
    expect(resourcesOf(t, 'AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties.MetricName === 'Errors')).toEqual([]);
  });

  it('expect a custom metric namespace on the AutoPause alarm and the dashboard', () => {
    const { template: t } = smallStack({ metricNamespace: 'Staging/EspOta' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [Match.objectLike({ MetricStat: Match.objectLike({ Metric: { Namespace: 'Staging/EspOta', MetricName: 'AutoPause' } }) })],
    });
    expect(JSON.stringify(dashboardBody(t))).toContain('{Staging/EspOta,Result} MetricName=\\"Check\\"');
  });

  it('expect a custom period on alarms and the dashboard searches', () => {
    const { template: t } = smallStack({ period: Duration.minutes(1) });
    for (const [, a] of resourcesOf(t, 'AWS::CloudWatch::Alarm')) expect(JSON.stringify(a.Properties)).toMatch(/"Period":60[,}]/);
    expect(JSON.stringify(dashboardBody(t))).toContain("'Sum', 60)");
  });

  it('expect a custom dashboard name', () => {
    smallStack({ dashboardName: 'esp-ota-prod' }).template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'esp-ota-prod' });
  });
});
