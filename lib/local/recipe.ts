/**
 * The "publish a first firmware" recipe `npm start` prints (bin/local.ts): commands that work as
 * printed against the platform that printed them — with the ports it actually bound (an
 * `export OTA_PORT=… OTA_S3_PORT=…` line when they are not otactl's defaults), a sample image so
 * no toolchain is needed, and every flag `product put` requires. test/lib/local/recipe.test.ts
 * runs it.
 */
import { LOCAL_API_PORT, LOCAL_S3_PORT } from '../cli/config';

export interface RecipeTarget {
  readonly apiUrl: string;
  readonly s3Endpoint: string;
}

/** The recipe's command lines (no indentation, no comments). */
export function recipeCommands(p: RecipeTarget, product = 'demo', version = '1.0.0'): string[] {
  const apiPort = Number(new URL(p.apiUrl).port || 80);
  const s3Port = Number(new URL(p.s3Endpoint).port || 80);
  const exports = [...(apiPort !== LOCAL_API_PORT ? [`OTA_PORT=${apiPort}`] : []), ...(s3Port !== LOCAL_S3_PORT ? [`OTA_S3_PORT=${s3Port}`] : [])];
  return [
    ...(exports.length ? [`export ${exports.join(' ')}`] : []),
    `npx otactl product put ${product} --chip esp32 --security-mode open --firmware-type "Demo Board"`,
    `npx otactl sample-image --version ${version} --chip esp32 -o build/app.bin`,
    `npx otactl publish ./build --product ${product} --version ${version} --release`,
    `npx otactl deploy create --product ${product} --build 1 --percentage 100`,
    `curl ${p.apiUrl}/api/v1/ota/check/ -H 'content-type: application/json' -d '{"product":"${product}","device_id":"24:6F:28:00:00:01","version":"0.9.0"}'`,
  ];
}

const NOTES: [RegExp, string][] = [
  [/^export /, 'this platform is not on the default ports'],
  [/ sample-image /, 'a valid ESP-IDF app image; or put your own build in ./build'],
  [/ publish /, 'writes manifest.json, uploads (manifest last), prints the build number'],
];

/** The recipe as printed: indented, with a short note after the commands that need one. */
export function recipeText(p: RecipeTarget, product = 'demo', version = '1.0.0'): string[] {
  return recipeCommands(p, product, version).map((c) => {
    const note = NOTES.find(([re]) => re.test(c))?.[1];
    return `  ${c}${note ? `   # ${note}` : ''}`;
  });
}
