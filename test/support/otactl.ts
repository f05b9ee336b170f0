/** Runs otactl in-process against a test platform, with no ambient environment. */
import { memoryOutput } from '../../lib/cli/output';
import { run, type ProgramDeps } from '../../lib/cli/program';
import type { LocalPlatform } from '../../lib/local/platform';

export async function otactlOn(platform: LocalPlatform, args: string[], deps: Partial<ProgramDeps> = {}) {
  const out = memoryOutput();
  const code = await run([...args, '--endpoint', platform.apiUrl, '--s3-endpoint', platform.s3Endpoint], { out, env: {}, pollIntervalMs: 100, ...deps });
  return { code, out: out.out(), err: out.err(), json: () => JSON.parse(out.out()) };
}
