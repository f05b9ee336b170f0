/** `npx cdk synth` works offline with the pinned CLI, through cdk.json and bin/ota.ts, with cdk-nag on. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

it('synthesizes the app with the CDK CLI, nag checks included', () => {
  const out = mkdtempSync(join(tmpdir(), 'cdk-out-'));
  try {
    const root = join(__dirname, '..', '..');
    execFileSync(join(root, 'node_modules', '.bin', 'cdk'), ['synth', '--no-notices', '-q', '-c', 'nag=true', '-o', out], {
      cwd: root,
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
      stdio: 'pipe',
    });
    const template = JSON.parse(readFileSync(join(out, 'EspOta.template.json'), 'utf8'));
    expect(Object.values(template.Resources as Record<string, { Type: string }>).some((r) => r.Type === 'AWS::CloudFront::Distribution')).toBe(true);
    expect(Object.keys(template.Outputs)).toEqual(
      expect.arrayContaining(['DeviceApiUrl', 'AdminApiUrl', 'IngestBucketName', 'FirmwareBucketName', 'CdnDomainName', 'SigningKeyPairId']),
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 180_000);
