/**
 * One streamed pass over an uploaded firmware file that gathers what every signature form needs,
 * keeping only bounded state: the first 560 bytes (esp32FOTA signature + the image header behind
 * it), the last flash sector (Secure Boot v2 signature blocks), one SHA-256 per byte range, and one
 * `Verify` per ECDSA P-256 key (its signature can only be checked by hashing the bytes itself; see
 * pss.ts). The total size is known up front (S3 ContentLength), so every range is fixed before the
 * first byte arrives and nothing needs buffering.
 */
import { createHash, createVerify, type Hash, type Verify } from 'node:crypto';
import { Crc32 } from '../checksum';
import type { SbV2BlockAlgorithm } from './chips';
import {
  APP_DESC_MAGIC_WORD,
  ESP32FOTA_SIGNATURE_LENGTH,
  ESP_IMAGE_MAGIC_BYTE,
  SBV2,
  SBV2_BLOCK_MAGIC,
  SBV2_BLOCK_SIZE,
  SBV2_CRC_OFFSET,
  SBV2_ECDSA_SHA256,
  SBV2_MAX_BLOCKS,
  SBV2_SECTOR_SIZE,
  SBV2_VERSION_ECDSA,
  SBV2_VERSION_RSA,
} from './format';
import { SBV2_CURVE_ID_P256, sbv2KeyId, type SigningAlgorithm } from './keys';
import { pkcs1Sha256Check, pssSha256Verifies, rsaOpen } from './pss';

export interface RegisteredSigningKey {
  readonly keyId: string;
  readonly algorithm: SigningAlgorithm;
  readonly publicKeyPem: string;
  readonly revoked: boolean;
}

export interface DetachedSignature {
  /** Base64 of the DER ECDSA signature (`openssl dgst -sha256 -sign`, KMS `Sign` ECDSA_SHA_256). */
  readonly signature: string;
  readonly keyId: string;
}

export interface SignatureScanOptions {
  /** Total bytes that will be fed (the object's ContentLength). */
  readonly size: number;
  readonly keys: readonly RegisteredSigningKey[];
  readonly detached?: DetachedSignature;
}

export type KeyStanding = 'active' | 'revoked' | 'unregistered';

export type SbV2BlockFinding =
  | { readonly index: number; readonly status: 'malformed'; readonly reason: string }
  | {
      readonly index: number;
      readonly status: 'parsed';
      readonly algorithm: SbV2BlockAlgorithm;
      /** Id of the key embedded in the block (the digest the bootloader compares with eFuse). */
      readonly keyId: string;
      /** The block's image digest equals SHA-256 of the bytes before the sector. */
      readonly digestMatches: boolean;
      readonly key: KeyStanding;
      /** Verified with the registered key of that id; false for an unregistered key. */
      readonly signatureValid: boolean;
    };

export interface SbV2Finding {
  /** Where the signature sector starts: the length of the padded image the blocks sign. */
  readonly sectorOffset: number;
  /** Set when the file ends inside the sector (a signature sector cut short). */
  readonly truncated?: string;
  readonly blocks: readonly SbV2BlockFinding[];
}

export interface Esp32FotaFinding {
  readonly imageOffset: typeof ESP32FOTA_SIGNATURE_LENGTH;
  /** Registered RSA-4096 keys that made the prefix signature, and whether it covers these image bytes. */
  readonly signers: readonly { readonly keyId: string; readonly revoked: boolean; readonly digestMatches: boolean }[];
}

export type DetachedFinding =
  | { readonly keyId: string; readonly status: 'unregistered' }
  | { readonly keyId: string; readonly status: 'wrong_algorithm'; readonly algorithm: SigningAlgorithm }
  | { readonly keyId: string; readonly status: 'malformed'; readonly reason: string }
  | { readonly keyId: string; readonly status: 'checked'; readonly revoked: boolean; readonly signatureValid: boolean };

export interface SignatureFindings {
  readonly size: number;
  readonly secureBootV2?: SbV2Finding;
  readonly esp32fota?: Esp32FotaFinding;
  readonly detached?: DetachedFinding;
}

export interface SignatureScan {
  update(chunk: Uint8Array): void;
  finish(): SignatureFindings;
}

/** Feeds the part of each chunk that falls in [start, end) of the file. */
class Range {
  constructor(
    readonly start: number,
    readonly end: number,
    private readonly sink: (part: Uint8Array) => void,
  ) {}
  feed(chunk: Uint8Array, at: number): void {
    const from = Math.max(this.start, at);
    const to = Math.min(this.end, at + chunk.length);
    if (from < to) this.sink(chunk.subarray(from - at, to - at));
  }
}

/** Copies [start, end) of the file into a fixed buffer. */
const capture = (start: number, end: number): { range: Range; bytes: Buffer } => {
  const bytes = Buffer.alloc(Math.max(0, end - start));
  let filled = 0;
  const range = new Range(start, end, (part) => {
    bytes.set(part, filled);
    filled += part.length;
  });
  return { range, bytes };
};

const hashRange = (start: number, end: number): { range: Range; hash: Hash } => {
  const hash = createHash('sha256');
  return { range: new Range(start, end, (part) => hash.update(part)), hash };
};

/** Head bytes kept: the esp32FOTA signature plus the image header and app descriptor magic behind it. */
const HEAD_BYTES = ESP32FOTA_SIGNATURE_LENGTH + 36;

/**
 * Magic, version and the reserved bytes espsecure writes as zero (RSA: bytes 2–3; ECDSA: byte 3, byte 2 the
 * SHA variant 0/1): 32 fixed bits, so an unsigned image rarely looks signed by accident (about 1 in 4 billion).
 */
const looksLikeSbV2Block = (b: Uint8Array, at: number): boolean =>
  b.length > at + 3 &&
  b[at] === SBV2_BLOCK_MAGIC &&
  b[at + 3] === 0 &&
  ((b[at + 1] === SBV2_VERSION_RSA && b[at + 2] === 0) || (b[at + 1] === SBV2_VERSION_ECDSA && b[at + 2] <= 1));

const appDescAt = (head: Buffer, imageStart: number): boolean =>
  head.length >= imageStart + 36 && head[imageStart] === ESP_IMAGE_MAGIC_BYTE && head.readUInt32LE(imageStart + 32) === APP_DESC_MAGIC_WORD;

export function createSignatureScan(opts: SignatureScanOptions): SignatureScan {
  const { size, keys } = opts;
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`size must be a non-negative integer, got ${size}`);
  const byId = new Map(keys.map((k) => [k.keyId, k]));
  const ranges: Range[] = [];

  const head = capture(0, Math.min(size, HEAD_BYTES));
  ranges.push(head.range);

  // A padded image plus its sector is a multiple of 4096; an unaligned file can still end in a cut-off sector.
  const aligned = size % SBV2_SECTOR_SIZE === 0 && size >= 2 * SBV2_SECTOR_SIZE;
  const sectorOffset = aligned ? size - SBV2_SECTOR_SIZE : Math.floor(size / SBV2_SECTOR_SIZE) * SBV2_SECTOR_SIZE;
  const sector = capture(sectorOffset, size);
  ranges.push(sector.range);
  const sbDigest = aligned ? hashRange(0, sectorOffset) : undefined;
  if (sbDigest) ranges.push(sbDigest.range);
  const sbEcdsa = new Map<string, Verify>();
  if (aligned) {
    for (const k of keys.filter((k) => k.algorithm === 'ecdsa-p256')) {
      const v = createVerify('sha256');
      sbEcdsa.set(k.keyId, v);
      ranges.push(new Range(0, sectorOffset, (part) => v.update(part)));
    }
  }

  const rsa4096 = keys.filter((k) => k.algorithm === 'rsa-4096');
  const fotaDigest = rsa4096.length > 0 && size > HEAD_BYTES ? hashRange(ESP32FOTA_SIGNATURE_LENGTH, size) : undefined;
  if (fotaDigest) ranges.push(fotaDigest.range);

  const detachedKey = opts.detached ? byId.get(opts.detached.keyId) : undefined;
  const detachedVerify = detachedKey?.algorithm === 'ecdsa-p256' ? createVerify('sha256') : undefined;
  if (detachedVerify) ranges.push(new Range(0, size, (part) => detachedVerify.update(part)));

  let fed = 0;
  let finished = false;

  const standing = (keyId: string): KeyStanding => {
    const k = byId.get(keyId);
    return !k ? 'unregistered' : k.revoked ? 'revoked' : 'active';
  };

  const parseBlock = (index: number, digest: Buffer, usedEcdsaKeys: Set<string>): SbV2BlockFinding => {
    const b = sector.bytes.subarray(index * SBV2_BLOCK_SIZE, (index + 1) * SBV2_BLOCK_SIZE);
    const malformed = (reason: string): SbV2BlockFinding => ({ index, status: 'malformed', reason: `signature block ${index}: ${reason}` });
    const version = b[1];
    if (version !== SBV2_VERSION_RSA && version !== SBV2_VERSION_ECDSA) {
      return malformed(`version 0x${version.toString(16)} is neither RSA-PSS (0x02) nor ECDSA (0x03)`);
    }
    const crc = new Crc32().update(b.subarray(0, SBV2_CRC_OFFSET)).digest();
    const stored = b.readUInt32LE(SBV2_CRC_OFFSET);
    if (crc !== stored) return malformed(`CRC32 is 0x${stored.toString(16)}, the block's first 1196 bytes give 0x${crc.toString(16)}`);
    const digestMatches = b.subarray(SBV2.digest, SBV2.digest + SBV2.digestLength).equals(digest);
    if (version === SBV2_VERSION_RSA) {
      const keyId = sbv2KeyId(b.subarray(SBV2.key, SBV2.key + SBV2.rsaKeyLength));
      const key = standing(keyId);
      const registered = byId.get(keyId);
      let signatureValid = false;
      if (registered && registered.algorithm === 'rsa-3072') {
        // Stored little-endian for the RSA peripheral; the primitive wants big-endian.
        const sig = Buffer.from(b.subarray(SBV2.rsaSignature, SBV2.rsaSignature + SBV2.rsaSignatureLength)).reverse();
        const opened = rsaOpen(registered.publicKeyPem, sig);
        // PSS binds the image digest the bootloader computes, not the (attacker-writable) copy in the block.
        signatureValid = opened !== undefined && pssSha256Verifies(opened, digest, 3072);
      }
      return { index, status: 'parsed', algorithm: 'rsa-3072', keyId, digestMatches, key, signatureValid };
    }
    if (b[2] !== SBV2_ECDSA_SHA256) return malformed(`ECDSA block hashes with SHA-384 (byte 2 = ${b[2]}); only P-256 with SHA-256 is supported`);
    const curve = b[SBV2.key];
    if (curve !== SBV2_CURVE_ID_P256) return malformed(`ECDSA curve id ${curve} is not P-256 (2); P-192 and P-384 are not supported`);
    const keyId = sbv2KeyId(b.subarray(SBV2.key, SBV2.key + SBV2.ecdsaKeyLength));
    const registered = byId.get(keyId);
    let signatureValid = false;
    const verifier = registered ? sbEcdsa.get(keyId) : undefined;
    if (registered && verifier) {
      if (usedEcdsaKeys.has(keyId)) return malformed('the same ECDSA key signs two blocks');
      usedEcdsaKeys.add(keyId);
      const rs = b.subarray(SBV2.ecdsaSignature, SBV2.ecdsaSignature + SBV2.ecdsaSignatureLength);
      // micro-ecc "native little-endian": r and s are each stored reversed.
      const p1363 = Buffer.concat([Buffer.from(rs.subarray(0, 32)).reverse(), Buffer.from(rs.subarray(32, 64)).reverse()]);
      try {
        signatureValid = verifier.verify({ key: registered.publicKeyPem, dsaEncoding: 'ieee-p1363' }, p1363);
      } catch {
        signatureValid = false;
      }
    }
    return { index, status: 'parsed', algorithm: 'ecdsa-p256', keyId, digestMatches, key: standing(keyId), signatureValid };
  };

  const secureBootV2 = (): SbV2Finding | undefined => {
    const s = sector.bytes;
    if (!looksLikeSbV2Block(s, 0)) return undefined;
    if (!aligned || !sbDigest) {
      return {
        sectorOffset,
        truncated: `the file ends ${s.length} bytes into a Secure Boot v2 signature sector at ${sectorOffset}; a whole sector is ${SBV2_SECTOR_SIZE} bytes`,
        blocks: [],
      };
    }
    const digest = sbDigest.hash.digest();
    const used = new Set<string>();
    const blocks: SbV2BlockFinding[] = [];
    // Blocks follow one another; the first slot not starting with the magic ends the list (the rest of the sector is 0xFF).
    for (let i = 0; i < SBV2_MAX_BLOCKS && s[i * SBV2_BLOCK_SIZE] === SBV2_BLOCK_MAGIC; i++) blocks.push(parseBlock(i, digest, used));
    return { sectorOffset, blocks };
  };

  const esp32fota = (): Esp32FotaFinding | undefined => {
    const h = head.bytes;
    if (!fotaDigest || h.length < HEAD_BYTES || h[ESP32FOTA_SIGNATURE_LENGTH] !== ESP_IMAGE_MAGIC_BYTE) return undefined;
    // A plain image starts with 0xE9; a signature does so by chance 1 time in 256, so the app descriptor decides then.
    if (h[0] === ESP_IMAGE_MAGIC_BYTE && (appDescAt(h, 0) || !appDescAt(h, ESP32FOTA_SIGNATURE_LENGTH))) return undefined;
    const digest = fotaDigest.hash.digest();
    const signature = h.subarray(0, ESP32FOTA_SIGNATURE_LENGTH);
    const signers: { keyId: string; revoked: boolean; digestMatches: boolean }[] = [];
    for (const k of rsa4096) {
      const outcome = pkcs1Sha256Check(rsaOpen(k.publicKeyPem, signature), digest);
      if (outcome !== 'not_this_key') signers.push({ keyId: k.keyId, revoked: k.revoked, digestMatches: outcome === 'valid' });
    }
    return { imageOffset: ESP32FOTA_SIGNATURE_LENGTH, signers };
  };

  const detached = (): DetachedFinding | undefined => {
    const d = opts.detached;
    if (!d) return undefined;
    if (!detachedKey) return { keyId: d.keyId, status: 'unregistered' };
    if (detachedKey.algorithm !== 'ecdsa-p256') return { keyId: d.keyId, status: 'wrong_algorithm', algorithm: detachedKey.algorithm };
    const b64 = d.signature.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return { keyId: d.keyId, status: 'malformed', reason: 'signature is not base64' };
    const der = Buffer.from(b64, 'base64');
    // DER ECDSA-Sig-Value: SEQUENCE { INTEGER r, INTEGER s }, at most 72 bytes for P-256.
    if (der.length < 8 || der.length > 72 || der[0] !== 0x30 || der[1] !== der.length - 2) {
      return { keyId: d.keyId, status: 'malformed', reason: `signature is ${der.length} bytes but not a DER ECDSA signature (SEQUENCE of r, s)` };
    }
    let signatureValid = false;
    try {
      signatureValid = detachedVerify!.verify({ key: detachedKey.publicKeyPem, dsaEncoding: 'der' }, der);
    } catch {
      signatureValid = false;
    }
    return { keyId: d.keyId, status: 'checked', revoked: detachedKey.revoked, signatureValid };
  };

  return {
    update(chunk) {
      if (finished) throw new Error('signature scan already finished');
      if (fed + chunk.length > size) throw new RangeError(`received more than the announced ${size} bytes`);
      for (const r of ranges) r.feed(chunk, fed);
      fed += chunk.length;
    },
    finish() {
      if (finished) throw new Error('signature scan already finished');
      if (fed !== size) throw new RangeError(`received ${fed} of the announced ${size} bytes`);
      finished = true;
      const sb = secureBootV2();
      const fota = esp32fota();
      const det = detached();
      return { size, ...(sb ? { secureBootV2: sb } : {}), ...(fota ? { esp32fota: fota } : {}), ...(det ? { detached: det } : {}) };
    },
  };
}
