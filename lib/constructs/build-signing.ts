import { RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface BuildSigningProps {
  /**
   * What happens to the key when the stack is deleted. Devices in the field trust its public key:
   * deleting it strands every build they would verify with it.
   * @default RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The platform's build-signing key: an asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY) whose
 * private half never leaves KMS. Products that turn `platform_signing` on get a detached ECDSA
 * P-256 signature over each accepted app file, made by the upload function (kms:Sign only); the
 * admin function reads the public key (kms:GetPublicKey only) to register it with the product.
 * Asymmetric KMS keys cannot rotate automatically: rotate by adding a new key to the products
 * (Secure Boot v2 style, up to three) and revoking the old one.
 */
export class BuildSigning extends Construct {
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: BuildSigningProps = {}) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'ESP32 OTA platform build signing (detached ECDSA P-256 signatures devices verify)',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}
