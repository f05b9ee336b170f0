/**
 * CloudFormation custom resource: the CloudFront URL-signing key pair, generated inside the
 * installer's account. The private key goes straight into Secrets Manager and never appears in
 * the template or the stack's outputs; the public key is returned for the CloudFront key group.
 * Update keeps the key unless the `Rotation` property changes; Delete leaves the secret to its
 * own removal policy.
 */
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

const sm = new SecretsManagerClient({});

interface Result {
  PhysicalResourceId: string;
  Data?: { PublicKeyPem: string };
}

const physicalId = (publicKeyPem: string) => `signing-key-${createHash('sha256').update(publicKeyPem).digest('hex').slice(0, 16)}`;

async function currentPublicKey(secretId: string): Promise<string | undefined> {
  const r = await sm.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (!r.SecretString?.includes('PRIVATE KEY')) return undefined;
  return createPublicKey(r.SecretString).export({ type: 'spki', format: 'pem' }).toString();
}

export const handler = async (event: CloudFormationCustomResourceEvent): Promise<Result> => {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const secretId = String(event.ResourceProperties.SecretId);
  if (event.RequestType === 'Update' && event.OldResourceProperties.Rotation === event.ResourceProperties.Rotation) {
    const existing = await currentPublicKey(secretId);
    if (existing) return { PhysicalResourceId: physicalId(existing), Data: { PublicKeyPem: existing } };
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  await sm.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }));
  return { PhysicalResourceId: physicalId(publicKeyPem), Data: { PublicKeyPem: publicKeyPem } };
};
