/** Firmware signature verification: keys, the single streamed scan, and the policy verdict. */
export { SBV2_CHIP_ALGORITHMS, SBV2_CHIP_BLOCKS_CHECKED, chipBootsSbV2Algorithm, type SbV2BlockAlgorithm, type SbV2Chip } from './chips';
export * from './format';
export {
  keyIdOf,
  parseSigningKey,
  sbv2EcdsaKeyMaterial,
  sbv2KeyId,
  sbv2RsaKeyMaterial,
  SigningKeyError,
  type SigningAlgorithm,
  type SigningKey,
  type SigningKeyErrorCode,
} from './keys';
export {
  createSignatureScan,
  type DetachedFinding,
  type DetachedSignature,
  type Esp32FotaFinding,
  type KeyStanding,
  type RegisteredSigningKey,
  type SbV2BlockFinding,
  type SbV2Finding,
  type SignatureFindings,
  type SignatureScan,
  type SignatureScanOptions,
} from './scan';
export {
  judgeSignature,
  type SignatureForm,
  type SignatureJudgement,
  type SignaturePolicy,
  type SignaturePolicyContext,
  type SignatureRejectCode,
  type SignatureVerification,
} from './verify';
