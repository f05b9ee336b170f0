/**
 * Arduino-ESP32 HTTPUpdate: `GET /api/v1/ota/arduino/{productId}`. The library sends its
 * identity in `x-ESP32-*` headers and understands 304 (no update), 302 (follow, when
 * `setFollowRedirects` is on), 403 and 404; a 200 would be flashed, so no JSON body is ever 200.
 */
import { isMacAddress, normalizeDeviceId } from '../../core/device-id';
import { isValidVersion } from '../../core/version';

export interface ArduinoRequest {
  readonly deviceId: string;
  readonly version?: string;
  readonly sketchSha256?: string;
  readonly freeSpace?: number;
  /**
   * `updateSpiffs()` (`x-ESP32-mode: spiffs`): the answer is written into the filesystem
   * partition, so it must never be the application image. Absent or `sketch`: an app update.
   */
  readonly filesystem?: boolean;
}

/** Parses the headers HTTPUpdate sends (names lower-cased); a reason string when unusable. */
export function parseArduinoHeaders(headers: Readonly<Record<string, string | undefined>>): ArduinoRequest | string {
  const mac = headers['x-esp32-sta-mac'];
  if (!mac) return 'x-ESP32-STA-MAC header is required (use Arduino HTTPUpdate)';
  if (!isMacAddress(mac)) return 'x-ESP32-STA-MAC is not a MAC address';
  const version = headers['x-esp32-version']?.trim() || undefined;
  if (version !== undefined && (version.length > 64 || !isValidVersion(version))) return 'x-ESP32-version is not a version';
  const sha = headers['x-esp32-sketch-sha256']?.trim().toLowerCase() || undefined;
  if (sha !== undefined && !/^[0-9a-f]{64}$/.test(sha)) return 'x-ESP32-sketch-sha256 is not a SHA-256';
  const free = Number(headers['x-esp32-free-space']);
  const mode = headers['x-esp32-mode']?.trim().toLowerCase();
  return {
    deviceId: normalizeDeviceId(mac),
    ...(version ? { version } : {}),
    ...(sha ? { sketchSha256: sha } : {}),
    ...(Number.isFinite(free) && free > 0 ? { freeSpace: free } : {}),
    ...(mode && mode !== 'sketch' ? { filesystem: true } : {}),
  };
}
