/**
 * `otactl sample-image --version 1.0.0 --chip esp32 -o build/app.bin`: writes a small valid
 * ESP-IDF application image (header, one segment, `esp_app_desc_t` carrying the version, XOR
 * checksum, appended SHA-256) — what ingest accepts — so the first publish needs no toolchain.
 * The bytes come from lib/sim/esp-image-builder.ts, the same builder the tests use.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { checkImageStructure, parseEspAppImage, validateAppImage } from '../../../lambdas/core/esp-image';
import { CHIPS, type Chip } from '../../../lambdas/core/model';
import { isValidVersion } from '../../../lambdas/core/version';
import { buildEspImage } from '../../sim/esp-image-builder';
import { emit, type Ctx } from '../context';
import { CliError, UsageError } from '../errors';
import { formatBytes, keyValues } from '../output';

export const SAMPLE_CHIPS = CHIPS;

export interface SampleImageOptions {
  readonly version: string;
  readonly chip: Chip;
  readonly output: string;
  readonly projectName?: string;
  /** Total size in bytes (default 64 KiB). */
  readonly size?: number;
  /** Seed of the pseudo-random body: different seeds, different bytes (and build) for one version. */
  readonly seed?: number;
}

export function sampleImage(o: SampleImageOptions): Buffer {
  if (!isValidVersion(o.version)) throw new UsageError(`--version "${o.version}" is not a semver, calendar or numeric version`);
  if (Buffer.byteLength(o.version) > 31) throw new UsageError('--version must fit the app descriptor (31 bytes)');
  if (!CHIPS.includes(o.chip)) throw new UsageError(`--chip must be one of ${CHIPS.join(', ')}`);
  const size = o.size ?? 64 * 1024;
  if (size < 1024 || size > 4 * 1024 * 1024) throw new UsageError('--size must be between 1024 and 4194304 bytes');
  const bytes = buildEspImage({ chip: o.chip, version: o.version, projectName: o.projectName ?? 'otactl-sample', size, fill: o.seed ?? 1 });
  // The image is checked the way ingest checks it before it is written.
  const structure = checkImageStructure(bytes, { sha256: (d) => createHash('sha256').update(d).digest() });
  const check = validateAppImage(parseEspAppImage(bytes), { chip: o.chip, version: o.version });
  if (!structure.ok || !check.ok)
    throw new CliError(`internal error: the sample image does not validate (${!structure.ok ? structure.reason : !check.ok ? check.reason : ''})`);
  return bytes;
}

export async function sampleImageCommand(ctx: Pick<Ctx, 'out' | 'json'>, o: SampleImageOptions): Promise<unknown> {
  const bytes = sampleImage(o);
  const path = resolve(o.output);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
  } catch (e) {
    throw new CliError(`cannot write ${o.output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const info = { path, chip: o.chip, version: o.version, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  return emit({ ...ctx, api: undefined as never }, info, (i) =>
    keyValues([
      ['wrote', i.path],
      ['chip', i.chip],
      ['version', i.version],
      ['size', formatBytes(i.size)],
      ['sha256', i.sha256],
    ]),
  );
}
