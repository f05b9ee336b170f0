/** Wire fields shared by the protocols whose offers carry a build's detached signature (native check, Bota). */
import type { DetachedSignature } from '../core/model';

/** `signature`, `signature_alg`, `key_id`: the device verifies the downloaded bytes with them before it boots the image. */
export const signatureFields = (s: DetachedSignature | undefined) => (s ? { signature: s.signature, signature_alg: s.algorithm, key_id: s.keyId } : {});
