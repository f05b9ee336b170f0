/**
 * Business metrics (lambdas/shared/metrics.ts): the EMF lines Powertools writes when running in
 * Lambda, their namespace, dimension sets (the fleet-wide ones are what the CDK alarms and the
 * dashboard query) and summed values; and silence outside Lambda or with OTA_SILENT=1.
 */
import {
  FLEET_DIMENSIONS,
  METRIC,
  METRIC_NAMESPACE,
  countAutoPause,
  countCheck,
  countMaskedFault,
  countIngest,
  countOffer,
  countOutcome,
  flushMetrics,
  metricsEnabled,
} from '../../lambdas/shared/metrics';

type Emf = Record<string, any> & {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
};
let stdout: string[];
let stderr: string[];
const saved = { ...process.env };

const lines = (): Emf[] =>
  stdout
    .join('')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
const only = (): Emf => {
  const all = lines();
  expect(all).toHaveLength(1);
  return all[0]!;
};
const directive = (emf: Emf) => emf._aws.CloudWatchMetrics[0]!;

beforeEach(() => {
  // Drop anything a previous test left buffered, while disabled (nothing is written).
  delete process.env.AWS_LAMBDA_FUNCTION_NAME;
  flushMetrics();
  stdout = [];
  stderr = [];
  jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown) => stdout.push(String(chunk)) > 0) as never);
  jest.spyOn(process.stderr, 'write').mockImplementation(((chunk: unknown) => stderr.push(String(chunk)) > 0) as never);
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'ota-check';
  delete process.env.OTA_SILENT;
  delete process.env.POWERTOOLS_METRICS_DISABLED;
  delete process.env.POWERTOOLS_DEV;
});
afterEach(() => {
  jest.restoreAllMocks();
  process.env = { ...saved };
});

describe('when metrics are off', () => {
  it('expect nothing on stdout when not running in Lambda (AWS_LAMBDA_FUNCTION_NAME unset)', () => {
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    expect(metricsEnabled()).toBe(false);
    countCheck('p', 'update');
    countAutoPause('p', 'd');
    flushMetrics();
    expect(stdout).toEqual([]);
  });

  it('expect nothing on stdout with OTA_SILENT=1, even in Lambda', () => {
    process.env.OTA_SILENT = '1';
    expect(metricsEnabled()).toBe(false);
    countOffer('p', 'd');
    flushMetrics();
    expect(stdout).toEqual([]);
  });

  it('expect counts made while off never to be written later', () => {
    process.env.OTA_SILENT = '1';
    countCheck('p', 'update');
    delete process.env.OTA_SILENT;
    countCheck('p', 'update');
    flushMetrics();
    expect(only().Check).toBe(1);
  });

  it('expect flushMetrics with nothing counted to write nothing', () => {
    flushMetrics();
    expect(stdout).toEqual([]);
    expect(stderr).toEqual([]);
  });
});

describe('EMF shape', () => {
  it('expect countCheck as one EMF line in the EspOta namespace, by result, fleet-wide and per product', () => {
    countCheck('prod-1', 'update');
    flushMetrics();
    const emf = only();
    expect(directive(emf).Namespace).toBe(METRIC_NAMESPACE);
    expect(directive(emf).Namespace).toBe('EspOta');
    expect(directive(emf).Metrics).toEqual([{ Name: 'Check', Unit: 'Count' }]);
    expect(directive(emf).Dimensions).toEqual([['Result'], ['ProductId', 'Result']]);
    expect(emf).toMatchObject({ Check: 1, Result: 'update', ProductId: 'prod-1' });
    expect(typeof emf._aws.Timestamp).toBe('number');
  });

  it('expect no service dimension (the alarms query exact dimension sets)', () => {
    countCheck('p', 'update');
    flushMetrics();
    const emf = only();
    expect(directive(emf).Dimensions.flat()).not.toContain('service');
    expect(emf).not.toHaveProperty('service');
  });

  it('expect repeated counts of one series summed into one line', () => {
    countCheck('p', 'no_update');
    countCheck('p', 'no_update');
    countCheck('p', 'no_update');
    flushMetrics();
    expect(only().Check).toBe(3);
  });

  it('expect one line per distinct series', () => {
    countCheck('p1', 'update');
    countCheck('p2', 'update');
    countCheck('p1', 'no_update');
    flushMetrics();
    const all = lines();
    expect(all.map((l) => [l.ProductId, l.Result, l.Check])).toEqual([
      ['p1', 'update', 1],
      ['p2', 'update', 1],
      ['p1', 'no_update', 1],
    ]);
  });

  it('expect flushMetrics to empty the buffer', () => {
    countCheck('p', 'update');
    flushMetrics();
    flushMetrics();
    expect(lines()).toHaveLength(1);
  });

  it('expect countOffer fleet-wide (no dimensions), per product and per deployment', () => {
    countOffer('p', 'dep-1');
    flushMetrics();
    const emf = only();
    expect(directive(emf).Metrics[0]!.Name).toBe('Offer');
    expect(directive(emf).Dimensions).toEqual([[], ['ProductId'], ['ProductId', 'DeploymentId']]);
    expect(emf).toMatchObject({ Offer: 1, ProductId: 'p', DeploymentId: 'dep-1' });
  });

  it('expect countOffer without a deployment (pinned assignment) to leave out the deployment series', () => {
    countOffer('p');
    flushMetrics();
    expect(directive(only()).Dimensions).toEqual([[], ['ProductId']]);
  });

  it('expect countOutcome by status, per product and per deployment', () => {
    countOutcome('p', 'dep-1', 'failed');
    flushMetrics();
    const emf = only();
    expect(directive(emf).Metrics[0]!.Name).toBe('Outcome');
    expect(directive(emf).Dimensions).toEqual([['Status'], ['ProductId', 'Status'], ['ProductId', 'DeploymentId', 'Status']]);
    expect(emf).toMatchObject({ Outcome: 1, Status: 'failed', ProductId: 'p', DeploymentId: 'dep-1' });
  });

  it('expect countOutcome without a deployment to leave out the deployment series', () => {
    countOutcome('p', undefined, 'success');
    flushMetrics();
    expect(directive(only()).Dimensions).toEqual([['Status'], ['ProductId', 'Status']]);
  });

  it('expect countIngest accepted by result and product', () => {
    countIngest('p', true);
    flushMetrics();
    const emf = only();
    expect(directive(emf).Dimensions).toEqual([['Result'], ['ProductId', 'Result']]);
    expect(emf).toMatchObject({ Ingest: 1, Result: 'accepted', ProductId: 'p' });
  });

  it('expect countIngest rejected with its code as a series', () => {
    countIngest('p', false, 'invalid_manifest');
    flushMetrics();
    const emf = only();
    expect(directive(emf).Dimensions).toEqual([['Result'], ['ProductId', 'Result'], ['Result', 'Code']]);
    expect(emf).toMatchObject({ Ingest: 1, Result: 'rejected', Code: 'invalid_manifest' });
  });

  it('expect countAutoPause fleet-wide (the series the AutoPause alarm watches) and per deployment', () => {
    countAutoPause('p', 'dep-1');
    flushMetrics();
    const emf = only();
    expect(directive(emf).Metrics).toEqual([{ Name: 'AutoPause', Unit: 'Count' }]);
    expect(directive(emf).Dimensions).toEqual([[], ['ProductId', 'DeploymentId']]);
    expect(emf.AutoPause).toBe(1);
  });

  it('expect countMaskedFault fleet-wide (the series its alarm watches) and per route', () => {
    countMaskedFault('POST /toy/ota');
    countMaskedFault('POST /toy/ota');
    flushMetrics();
    const emf = only();
    expect(directive(emf).Metrics).toEqual([{ Name: 'MaskedFault', Unit: 'Count' }]);
    expect(directive(emf).Dimensions).toEqual([[], ['Route']]);
    expect(emf.MaskedFault).toBe(2);
    expect(emf.Route).toBe('POST /toy/ota');
  });

  it('expect the first dimension set of every metric to be its FLEET_DIMENSIONS entry', () => {
    countCheck('p', 'update');
    countOffer('p', 'd');
    countOutcome('p', 'd', 'success');
    countIngest('p', true);
    countAutoPause('p', 'd');
    countMaskedFault('POST /toy/ota');
    flushMetrics();
    const firstSets = Object.fromEntries(lines().map((l) => [directive(l).Metrics[0]!.Name, directive(l).Dimensions[0]]));
    expect(firstSets).toEqual(FLEET_DIMENSIONS);
    expect(Object.keys(firstSets).sort()).toEqual(Object.values(METRIC).sort());
  });

  it('expect an empty product id to drop only the per-product series', () => {
    countCheck('', 'update');
    flushMetrics();
    const emf = only();
    expect(directive(emf).Dimensions).toEqual([['Result']]);
    expect(emf).not.toHaveProperty('ProductId');
  });

  it('expect no Powertools warnings for our overlapping dimension sets', () => {
    countOutcome('p', 'd', 'success');
    countIngest('p', false, 'x');
    flushMetrics();
    expect(lines()).toHaveLength(2);
    expect(stderr).toEqual([]);
    expect(stdout.join('')).not.toContain('"level":"WARN"');
  });

  it('expect an empty AWS_LAMBDA_FUNCTION_NAME to count as not running in Lambda', () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME = '';
    countAutoPause('p', 'd');
    flushMetrics();
    expect(stdout).toEqual([]);
  });
});
