/**
 * Anti-rollback (`CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK`): the bootloader refuses an app whose
 * `esp_app_desc_t.secure_version` is below the value in the device's eFuse, and the app burns its
 * own secure_version into that eFuse once it boots and is marked valid — for good. Pure.
 */
import type { Firmware } from './model';

/** Whether a build may be offered to a device known to hold `deviceSecureVersion`. Unknown on either side: allowed. */
export const passesAntiRollback = (buildSecureVersion: number | undefined, deviceSecureVersion: number | undefined): boolean =>
  buildSecureVersion === undefined || deviceSecureVersion === undefined || buildSecureVersion >= deviceSecureVersion;

/**
 * What an operator must know before releasing `build`: when it raises secure_version above every
 * build released before, each device that boots it can never again run any of those.
 */
export function releaseWarnings(build: Pick<Firmware, 'build' | 'app'>, releasedBefore: readonly Pick<Firmware, 'build' | 'app'>[]): string[] {
  const sv = build.app.secureVersion;
  if (sv === undefined) return [];
  const earlier = releasedBefore.filter((f) => f.build !== build.build && f.app.secureVersion !== undefined).map((f) => f.app.secureVersion!);
  const highest = earlier.length ? Math.max(...earlier) : undefined;
  if (highest === undefined ? sv === 0 : sv <= highest) return [];
  return [
    `Build ${build.build} raises secure_version to ${sv}${highest === undefined ? '' : ` (released builds so far: at most ${highest})`}: ` +
      `a device with anti-rollback burns it into its eFuse for good once it boots this build, and can never again run a build with a lower secure_version.`,
  ];
}
