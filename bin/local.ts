/**
 * `npm start`: the whole platform on this machine, in one process. Point a real ESP32 at it
 * (bind with OTA_HOST=0.0.0.0 and set OTA_PUBLIC_HOST to this machine's LAN address).
 */
import { join } from 'node:path';
import { PortInUseError, startPlatform } from '../lib/local/platform';
import { recipeText } from '../lib/local/recipe';

async function main() {
  const p = await startPlatform();
  const product = 'demo';
  const version = '1.0.0';
  const s3Secret = p.dataDir ? `secret in ${join(p.dataDir, 'keys', 's3-credentials.json')}` : 'secret: LocalPlatform.s3Credentials';
  process.stdout.write(
    [
      '',
      'ESP32 OTA platform — local',
      '',
      `  Device API    ${p.apiUrl}/api/v1/ota/check/   (routes: lambdas/routes.ts)`,
      `  Operator API  ${p.apiUrl}/admin/v1/…             (loopback only, same-origin, JSON bodies)`,
      `  CDN (edge)    ${p.cdnUrl}                        signed URLs, key pair ${p.keyPairId}`,
      `  S3            ${p.s3Endpoint}   buckets ${p.buckets.ingest}, ${p.buckets.firmware}   loopback only, signed requests only: key ${p.s3Credentials.accessKeyId}, ${s3Secret}`,
      `  DynamoDB      ${p.dynamodbEndpoint}   tables ${Object.values(p.tableNames).join(', ')}`,
      `  Data          ${p.dataDir ?? '(in memory)'}`,
      '',
      'Publish a first firmware (otactl talks to this platform by default; in another terminal, in this folder):',
      ...recipeText(p, product, version),
      '',
      `  (any S3 client works too: ${p.s3Endpoint}, path style, key ${p.s3Credentials.accessKeyId}, ${s3Secret}; upload the .bin files, then manifest.json)`,
      '  To watch a whole rollout instead: npm run demo',
      '',
      'Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  // Machine-readable line for scripts and tests that start the platform as a child process.
  process.stdout.write(`OTA_READY ${JSON.stringify({ apiUrl: p.apiUrl, cdnUrl: p.cdnUrl, s3Endpoint: p.s3Endpoint })}\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await p.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  // A taken port is an everyday situation, not a crash: one line naming the variable to set.
  if (e instanceof PortInUseError) {
    process.stderr.write(`npm start: ${e.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`failed to start: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
