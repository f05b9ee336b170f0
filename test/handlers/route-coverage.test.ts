/**
 * Every route of the one route table is implemented by the function it names, and every route a
 * function implements is in the table: the table cannot promise what a handler does not serve.
 */
import { generateKeyPairSync } from 'node:crypto';
import { routeKey, ROUTES, type FunctionName } from '../../lambdas/routes';
import { ENV } from '../../lambdas/shared/env';

beforeAll(() => {
  // Handlers read (and check) their configuration at load; no AWS call happens in this test.
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    [ENV.FIRMWARE_TABLE]: 't-fw',
    [ENV.DEPLOYMENTS_TABLE]: 't-dep',
    [ENV.DEVICES_TABLE]: 't-dev',
    [ENV.INGEST_BUCKET]: 'b-in',
    [ENV.FIRMWARE_BUCKET]: 'b-fw',
    [ENV.CDN_BASE_URL]: 'https://cdn.example',
    [ENV.SIGNING_KEY_PAIR_ID]: 'K1',
    [ENV.SIGNING_PRIVATE_KEY_PEM]: pem,
  });
});

const keysOf = (fn: FunctionName) =>
  ROUTES.filter((r) => r.fn === fn)
    .map(routeKey)
    .sort();

it('check serves exactly its routes', async () => {
  expect([...(await import('../../lambdas/handlers/check')).CHECK_ROUTE_KEYS].sort()).toEqual(keysOf('check'));
});

it('status serves exactly its routes', async () => {
  expect([...(await import('../../lambdas/handlers/status')).STATUS_ROUTE_KEYS].sort()).toEqual(keysOf('status'));
});

it('upload serves exactly its HTTP routes', async () => {
  expect([...(await import('../../lambdas/handlers/upload')).UPLOAD_ROUTE_KEYS].sort()).toEqual(keysOf('upload'));
});

it('admin serves exactly its routes', async () => {
  expect([...(await import('../../lambdas/handlers/admin')).ADMIN_ROUTE_KEYS].sort()).toEqual(keysOf('admin'));
});

it('activation has one route', () => {
  expect(keysOf('activation')).toEqual(['POST /toy/ota/activate']);
});
