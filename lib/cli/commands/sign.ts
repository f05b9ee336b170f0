/** `otactl sign <file> --key <pem|kms:arn>`: the detached signature a manifest's `files[].signature` takes. */
import { readFileSync, writeFileSync } from 'node:fs';
import { buildSignerFor } from '../build-signing';
import { CliError } from '../errors';
import { printJson, println, type Output } from '../output';

export async function signFile(
  out: Output,
  json: boolean,
  file: string,
  o: { key: string; output?: string },
  env?: NodeJS.ProcessEnv,
): Promise<{ file: string; signature: string; key_id: string; written: string }> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const signer = await buildSignerFor(o.key, env);
  const signature = await signer.sign(bytes);
  const written = o.output ?? `${file}.sig`;
  writeFileSync(written, `${signature}\n`);
  const result = { file, signature, key_id: signer.keyId, written };
  if (json) printJson(out, result);
  else {
    println(out.stdout, signature);
    println(out.stderr, `signed ${file} with key ${signer.keyId}; signature (base64 DER) written to ${written}`);
  }
  return result;
}
