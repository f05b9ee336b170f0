/**
 * Byte layouts of the signature forms, from espressif/esptool `espsecure/__init__.py`
 * (`generate_rsa_signature_block`: struct `<BBxx32s384sI384sI384s`; `generate_ecdsa_signature_block`:
 * `<BBBx32sB64s64s1031x`; then CRC32 and 16 zero bytes) and ESP-IDF `ets_secure_boot_sig_block_t`,
 * and from chrisjoyce911/esp32FOTA `src/esp32FOTA.cpp` (`FW_SIGNATURE_LENGTH` 512 bytes read before
 * the image, `mbedtls_pk_verify(MBEDTLS_MD_SHA256, sha256(image))`).
 */

/** The signature sector starts on a flash sector boundary right after the 0xFF-padded image. */
export const SBV2_SECTOR_SIZE = 4096;
export const SBV2_BLOCK_SIZE = 1216;
/** `SECURE_BOOT_NUM_BLOCKS`: the bootloader reads at most three blocks. */
export const SBV2_MAX_BLOCKS = 3;
export const SBV2_BLOCK_MAGIC = 0xe7;
export const SBV2_VERSION_RSA = 0x02;
export const SBV2_VERSION_ECDSA = 0x03;
/** Byte 2 of an ECDSA block: 0 = SHA-256 (1 = SHA-384, P-384 only, not accepted here). */
export const SBV2_ECDSA_SHA256 = 0x00;
/** The zlib CRC32 covers bytes 0..1195 and is stored little-endian at 1196. */
export const SBV2_CRC_OFFSET = 1196;

/** Offsets inside a block. */
export const SBV2 = {
  digest: 4,
  digestLength: 32,
  /** Both forms keep the key material at 36: RSA n‖e‖rinv‖m' (776 B), ECDSA curve‖x‖y (65 B). */
  key: 36,
  rsaKeyLength: 776,
  rsaSignature: 812,
  rsaSignatureLength: 384,
  ecdsaKeyLength: 65,
  ecdsaSignature: 101,
  ecdsaSignatureLength: 64,
} as const;

export const ESP32FOTA_SIGNATURE_LENGTH = 512;

export const ESP_IMAGE_MAGIC_BYTE = 0xe9;
/** `esp_app_desc_t.magic_word`, at byte 32 of an app image. */
export const APP_DESC_MAGIC_WORD = 0xabcd5432;
