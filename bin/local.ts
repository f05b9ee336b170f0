/**
 * `npm start`: the whole platform on this machine, in one process. Point a real ESP32 at it
 * (bind with OTA_HOST=0.0.0.0 and set OTA_PUBLIC_HOST to this machine's LAN address).
 */
import { startPlatform } from '../lib/local/platform';

async function main() {
  const p = await startPlatform();
  const product = 'demo';
  const version = '1.0.0';
  const s3 = `aws --endpoint-url ${p.s3Endpoint} s3`;
  process.stdout.write(
    [
      '',
      'ESP32 OTA platform — local',
      '',
      `  Device API    ${p.apiUrl}/api/v1/ota/check/   (routes: lambdas/routes.ts)`,
      `  Operator API  ${p.apiUrl}/admin/v1/…             (loopback only)`,
      `  CDN (edge)    ${p.cdnUrl}                        signed URLs, key pair ${p.keyPairId}`,
      `  S3            ${p.s3Endpoint}   buckets ${p.buckets.ingest}, ${p.buckets.firmware}   credentials S3RVER / S3RVER`,
      `  DynamoDB      ${p.dynamodbEndpoint}   tables ${Object.values(p.tableNames).join(', ')}`,
      `  Data          ${p.dataDir ?? '(in memory)'}`,
      '',
      'Publish a first firmware:',
      `  curl -X PUT ${p.apiUrl}/admin/v1/products/${product} -H 'content-type: application/json' \\`,
      `       -d '{"chip":"esp32","security_mode":"open","firmware_type":"Demo Board"}'`,
      `  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1`,
      `  ${s3} cp build/app.bin s3://${p.buckets.ingest}/${product}/${version}/app.bin`,
      `  echo '{"product":"${product}","version":"${version}","files":[{"name":"app.bin"}]}' > manifest.json`,
      `  ${s3} cp manifest.json s3://${p.buckets.ingest}/${product}/${version}/manifest.json`,
      `  ${s3} cp s3://${p.buckets.ingest}/${product}/${version}/result.json -     # → build_number`,
      `  curl -X POST ${p.apiUrl}/admin/v1/products/${product}/firmware/1/release`,
      `  curl -X POST ${p.apiUrl}/admin/v1/products/${product}/deployments -H 'content-type: application/json' -d '{"build":1,"percentage":100}'`,
      `  curl ${p.apiUrl}/api/v1/ota/check/ -H 'content-type: application/json' -d '{"product":"${product}","device_id":"24:6F:28:00:00:01","version":"0.9.0"}'`,
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
  process.stderr.write(`failed to start: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
