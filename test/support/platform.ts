/**
 * Starts the in-memory local platform (dynalite + s3rver + edge + gateway, real HTTP) for one
 * test file, on ephemeral ports, and hands out clients for it.
 */
import { startPlatform, type LocalPlatform } from '../../lib/local/platform';
import { httpClient, type HttpClient } from './http-client';

export interface TestPlatform {
  readonly platform: LocalPlatform;
  readonly api: HttpClient;
}

export async function startTestPlatform(): Promise<TestPlatform> {
  process.env.OTA_SILENT = '1';
  const platform = await startPlatform({ inMemory: true, apiPort: 0, cdnPort: 0, s3Port: 0, quiet: true, sweepIntervalMs: 0 });
  return { platform, api: httpClient(platform.apiUrl) };
}

/** Creates a product through the operator API. */
export async function createProduct(api: HttpClient, productId: string, body: Record<string, unknown> = {}) {
  const r = await api.put(`/admin/v1/products/${productId}`, { chip: 'esp32', security_mode: 'open', firmware_type: 'Test Board', ...body });
  if (r.status !== 201 && r.status !== 200) throw new Error(`create product failed: ${r.status} ${r.text}`);
  return r.body;
}
