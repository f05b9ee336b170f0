/**
 * IoTaaP device routes. Devices are named by id alone, found through the sparse `byGlobalId`
 * index (one Query, no GetItem needed after it):
 * - `GET /v1/ota/device/latest/{device-id}` → 200 `{ "ver" }` (the build it should run), 404
 *   `{ message: "No such device", error }` for an unknown device;
 * - `GET /v1/ota/device/download/{device-id}{device-token}` → 302 to the signed CDN URL (bytes never
 *   pass through the Lambda); bad id or token, or nothing to download → the documented 404.
 *   The download always needs the device token (IoTaaP's protocol), whatever the product's mode.
 */
import { noSuchDevice } from '../core/protocols/iotaap';
import { secretMatches, splitIdAndToken } from '../core/security';
import { DEVICE_ID_PATTERN } from '../core/device-id';
import type { Device } from '../core/model';
import { empty, json, type HttpEvent, type HttpResult } from '../shared/http';
import type { ProtocolDeps, ProtocolRoutes } from './types';

export function iotaapRoutes(deps: ProtocolDeps): ProtocolRoutes {
  const find = async (deviceId: string): Promise<Device | undefined> => {
    if (!DEVICE_ID_PATTERN.test(deviceId)) return undefined;
    const found = await deps.devices.findByGlobalId(deviceId);
    if (found.length > 1) deps.logger.warn('device id bound to several IoTaaP products', { deviceId, products: found.map((d) => d.productId) });
    return found.length === 1 ? found[0] : undefined;
  };
  // IoTaaP authenticates by its own means (the in-path token on downloads; `latest` is open by design).
  const check = (device: Device) => deps.checks.check(device.productId, { deviceId: device.deviceId, hw: {} }, { device, authenticated: true });

  return {
    'GET /v1/ota/device/latest/{deviceId}': {
      async handle(event: HttpEvent): Promise<HttpResult> {
        const id = event.pathParameters?.deviceId ?? '';
        const device = await find(id);
        if (!device || !device.active) return json(404, noSuchDevice(`Device ${id.slice(0, 64)} is not registered`));
        const product = await deps.config.product(device.productId);
        if (!product || product.securityMode === 'product_key') return json(404, noSuchDevice('Device is not served over IoTaaP'));
        const r = await check(device);
        const ver = r.decision.status === 'update_available' ? r.decision.offer.firmware.version : (device.currentVersion ?? '');
        return json(200, { ver });
      },
    },

    'GET /v1/ota/device/download/{deviceIdAndToken}': {
      async handle(event: HttpEvent): Promise<HttpResult> {
        const split = splitIdAndToken(event.pathParameters?.deviceIdAndToken ?? '');
        const device = split ? await find(split.deviceId) : undefined;
        if (!split || !device || !device.active || !secretMatches(split.token, device.tokenHash)) {
          return json(404, noSuchDevice('Unknown device or invalid token'));
        }
        const r = await check(device);
        if (r.decision.status !== 'update_available' || !r.offer) return json(404, noSuchDevice('No firmware available for this device'));
        return empty(302, { location: r.offer.appUrl });
      },
    },
  };
}
