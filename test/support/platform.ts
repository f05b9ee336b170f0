/**
 * Starts the in-memory local platform (dynalite + s3rver + edge + gateway, real HTTP) for one
 * test file, on ephemeral ports, and hands out clients for it.
 */
import { startPlatform, type LocalPlatform, type PlatformOptions } from '../../lib/local/platform';
import { startFaultProxy, type FaultProxy } from './fault-proxy';
import { httpClient, type HttpClient } from './http-client';

export interface TestPlatform {
  readonly platform: LocalPlatform;
  readonly api: HttpClient;
}

export async function startTestPlatform(opts: Pick<PlatformOptions, 'functionsDynamodbEndpoint'> = {}): Promise<TestPlatform> {
  process.env.OTA_SILENT = '1';
  const platform = await startPlatform({ inMemory: true, apiPort: 0, cdnPort: 0, s3Port: 0, quiet: true, sweepIntervalMs: 0, ...opts });
  return { platform, api: httpClient(platform.apiUrl) };
}

export interface FaultyTestPlatform extends TestPlatform {
  /** Sits between the functions and dynalite (the tests' own admin clients bypass it). */
  readonly proxy: FaultProxy;
  /** Heals the proxy, then stops the platform and the proxy. */
  stop(): Promise<void>;
}

/** The test platform with a fault proxy in front of DynamoDB, for black-holed and slow tables. */
export async function startFaultyTestPlatform(): Promise<FaultyTestPlatform> {
  const proxy = await startFaultProxy();
  const { platform, api } = await startTestPlatform({ functionsDynamodbEndpoint: (dynalite) => (proxy.setTarget(dynalite), proxy.endpoint) });
  const stop = async () => {
    proxy.heal();
    await platform.stop();
    await proxy.close();
  };
  return { platform, api, proxy, stop };
}

/** Creates a product through the operator API. */
export async function createProduct(api: HttpClient, productId: string, body: Record<string, unknown> = {}) {
  const r = await api.put(`/admin/v1/products/${productId}`, { chip: 'esp32', security_mode: 'open', firmware_type: 'Test Board', ...body });
  if (r.status !== 201 && r.status !== 200) throw new Error(`create product failed: ${r.status} ${r.text}`);
  return r.body;
}
