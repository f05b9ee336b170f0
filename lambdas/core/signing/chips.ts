/**
 * Which Secure Boot v2 signature block algorithms each chip's ROM bootloader can verify, from
 * ESP-IDF `components/soc/<chip>/include/soc/soc_caps.h` (`SOC_SECURE_BOOT_V2_RSA`,
 * `SOC_SECURE_BOOT_V2_ECC`). A block the chip cannot verify would leave the device unbootable
 * (or, with several blocks, trusting fewer keys than the operator thinks), so it is rejected.
 * ESP32 supports Secure Boot v2 from silicon rev 3.0 (ECO3) only; earlier revisions use v1.
 * ESP32-C2 can also verify P-192 blocks, which this platform does not accept.
 */
import type { Chip } from '../model';

export type SbV2BlockAlgorithm = 'rsa-3072' | 'ecdsa-p256';

/** Chips the platform knows plus ESP32-P4 (both algorithms), so the table is ready when the model gains it. */
export type SbV2Chip = Chip | 'esp32p4';

export const SBV2_CHIP_ALGORITHMS: Readonly<Record<SbV2Chip, readonly SbV2BlockAlgorithm[]>> = {
  esp32: ['rsa-3072'],
  esp32s2: ['rsa-3072'],
  esp32s3: ['rsa-3072'],
  esp32c3: ['rsa-3072'],
  esp32c2: ['ecdsa-p256'],
  esp32c6: ['rsa-3072', 'ecdsa-p256'],
  esp32h2: ['rsa-3072', 'ecdsa-p256'],
  esp32p4: ['rsa-3072', 'ecdsa-p256'],
};

/**
 * How many signature blocks the chip's bootloader verifies. ESP32 rev3 checks only the first
 * (ESP-IDF `components/esp_rom/include/esp32/rom/secure_boot.h`: `SECURE_BOOT_NUM_BLOCKS 1`, "ROM
 * supports up to 3, but IDF only checks the first one"); the others check up to three.
 */
export const SBV2_CHIP_BLOCKS_CHECKED: Readonly<Record<SbV2Chip, number>> = {
  esp32: 1,
  esp32s2: 3,
  esp32s3: 3,
  esp32c3: 3,
  esp32c2: 3,
  esp32c6: 3,
  esp32h2: 3,
  esp32p4: 3,
};

export const chipBootsSbV2Algorithm = (chip: SbV2Chip, algorithm: SbV2BlockAlgorithm): boolean => (SBV2_CHIP_ALGORITHMS[chip] ?? []).includes(algorithm);
