/**
 * IoTaaP device routes. Devices are named by id alone, found through the sparse `byGlobalId`
 * index (one Query, no GetItem needed after it):
 * - `GET /v1/ota/device/latest/{device-id}` → 200 `{ "ver" }` (the build it should run), 404
 *   `{ message: "No such device", error }` for an unknown device or one with nothing to run;
 * - `GET /v1/ota/device/download/{device-id}{device-token}` → 302 to the signed CDN URL (bytes never
 *   pass through the Lambda); bad id or token, or nothing to download → the documented 404.
 * - an infrastructure fault on either route → the same documented 404 (with Retry-After).
 *   The download always needs the device token (IoTaaP's protocol), whatever the product's mode.
 */
import { DEVICE_ID_PATTERN } from '../../core/device-id';
import { isDomainError } from '../../core/errors';
import type { Device } from '../../core/model';
import { secretMatches, splitIdAndToken } from '../../core/security';
import { empty, json, retryAfterSeconds, type HttpResult } from '../../shared/http';
import { countMaskedFault } from '../../shared/metrics';
import type { Implementations } from '../../shared/operations';
import type { ProtocolDeps } from '../types';
import type { iotaapDownload, iotaapLatest } from './contract';
import { noSuchDevice } from './wire';

export function iotaapRoutes(deps: ProtocolDeps): Implementations<typeof iotaapLatest | typeof iotaapDownload> {
  const find = async (deviceId: string): Promise<Device | undefined> => {
    if (!DEVICE_ID_PATTERN.test(deviceId)) return undefined;
    const found = await deps.devices.findByGlobalId(deviceId);
    if (found.length > 1) deps.logger.warn('device id bound to several IoTaaP products', { deviceId, products: found.map((d) => d.productId) });
    return found.length === 1 ? found[0] : undefined;
  };
  // IoTaaP authenticates by its own means (the in-path token on downloads; `latest` is open by
  // design). `latest` is a lookup: it cannot lead to a download by itself, so it offers nothing,
  // counts nothing and moves no assignment — otherwise anyone knowing a device id could open
  // offers that time out and pause a rollout. Only the authenticated download offers.
  // IoTaaP devices never say what they run: the device calling again after a completed download is
  // the only evidence of success there is (see inferOutcome; a known limit, documented).
  const check = (device: Device, download: boolean) =>
    deps.checks.check(
      device.productId,
      { deviceId: device.deviceId, hw: {} },
      { device, authenticated: true, versionless: true, ...(download ? {} : { lookup: true, moveAssignment: false }) },
    );

  // The seed documents one error for both routes, also under the condition "If devices resources
  // are not available at the moment": 404 `{ message: "No such device", error }`, not a 503.
  // The stock library treats any non-200 as "no update", so nothing is lost; Retry-After stays.
  const onError = (e: unknown): HttpResult => {
    deps.logger.error('iotaap device route failed', e);
    if (!isDomainError(e)) countMaskedFault('GET /v1/ota/device/*');
    return json(404, noSuchDevice('Device resources are not available at the moment; retry later'), { 'retry-after': String(retryAfterSeconds()) });
  };

  return {
    iotaapLatest: {
      onError,
      async handle({ event }) {
        const id = event.pathParameters?.deviceId ?? '';
        const device = await find(id);
        if (!device || !device.active) return json(404, noSuchDevice(`Device ${id.slice(0, 64)} is not registered`));
        const product = await deps.config.product(device.productId);
        if (!product || product.securityMode === 'product_key') return json(404, noSuchDevice('Device is not served over IoTaaP'));
        const r = await check(device, false);
        const running = r.settled?.outcome === 'succeeded' ? (r.settled.version ?? device.currentVersion) : device.currentVersion;
        const ver = r.decision.status === 'update_available' ? r.decision.offer.firmware.version : running;
        // Nothing to run and no known version: never 200 `{ "ver": "" }`. The stock IoTaaP library
        // starts an OTA whenever `ver` differs from its own version, so "" would send it to the
        // download route on every check. Like a device with no OTA yet at IoTaaP: the documented
        // 404 (the library ignores non-200).
        if (!ver) return json(404, noSuchDevice('No firmware has been deployed to this device yet'));
        return json(200, { ver });
      },
    },

    iotaapDownload: {
      onError,
      async handle({ event }) {
        const split = splitIdAndToken(event.pathParameters?.deviceIdAndToken ?? '');
        const device = split ? await find(split.deviceId) : undefined;
        if (!split || !device || !device.active || !secretMatches(split.token, device.tokenHash)) {
          return json(404, noSuchDevice('Unknown device or invalid token'));
        }
        const r = await check(device, true);
        if (r.decision.status !== 'update_available' || !r.offer) return json(404, noSuchDevice('No firmware available for this device'));
        return empty(302, { location: r.offer.appUrl });
      },
    },
  };
}
