/**
 * Bundle size is cold start. Each handler is bundled the way the CDK bundles it (esbuild, minified,
 * CJS, node22) and held to a budget, so an import that drags in classic zod, zod's locales or an
 * SDK client a function does not use fails here rather than in a latency graph.
 */
import { join } from 'node:path';
import { buildSync } from 'esbuild';

const root = join(__dirname, '..', '..');
const bundle = (fn: string) => {
  const r = buildSync({
    entryPoints: [join(root, 'lambdas', 'handlers', `${fn}.ts`)],
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  // Inputs that contribute bytes (esbuild lists tree-shaken files too, with 0 bytes).
  const contributing = Object.values(r.metafile!.outputs)[0]!.inputs;
  return { bytes: r.outputFiles[0]!.contents.length, inputs: Object.keys(contributing).filter((i) => contributing[i]!.bytesInOutput > 0) };
};

it.each([
  // +20 KB (was 715 KB): the contract declarations of the routes it serves (their request and
  // response schemas, ~12 KB) — they validate path parameters before any I/O and type the replies.
  ['check', 735_000],
  // +50 KB (was 650 KB): Powertools Logger (~24 KB, every handler) and Metrics (~13 KB, once the
  // status handler counts outcomes and auto-pauses) took status to ~680 KB; the rest is headroom.
  ['status', 715_000],
  // +50 KB (was 650 KB): the operator API's declared response schemas (~14 KB, which also type its
  // replies), the four operator services and the ingest metadata fields; off the device path.
  // +85 KB (was 700 KB): the KMS client (~60 KB: the platform signing key's GetPublicKey) and the
  // signature library (key parsing); off the device path, operator calls only.
  ['admin', 785_000],
  // +85 KB (was 865 KB): the KMS client (kms:Sign of platform signing) and the signature library.
  ['upload', 950_000],
  // The S3 client + the DynamoDB stores, without the signer or any protocol code.
  ['download-log', 850_000],
])('%s bundles under %d bytes without zod locales or classic zod', (fn, budget) => {
  const { bytes, inputs } = bundle(fn);
  expect(inputs.filter((i) => i.includes('zod/v4/locales') || i.includes('zod/v4/classic'))).toEqual([]);
  expect(bytes).toBeLessThan(budget);
});

it.each(['check', 'status', 'download-log'])('%s does not bundle the KMS client or the signature library (device paths verify nothing)', (fn) => {
  expect(bundle(fn).inputs.filter((i) => i.includes('client-kms') || i.includes('core/signing'))).toEqual([]);
});

it.each(['check', 'status', 'admin'])('%s does not bundle the S3 client', (fn) => {
  expect(bundle(fn).inputs.filter((i) => i.includes('client-s3'))).toEqual([]);
});
