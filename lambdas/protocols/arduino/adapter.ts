/**
 * Arduino-ESP32 HTTPUpdate: `GET /api/v1/ota/arduino/{productId}` → 304 nothing newer (also for
 * unknown or inactive devices: HTTPUpdate reports NO_UPDATES), 302 to the signed CDN URL, 403 for
 * a failing credential, 404 for an unknown product, 400 for requests that are not HTTPUpdate's.
 * `updateSpiffs()` requests (x-ESP32-mode: spiffs) always get 304: the app image is never flashed into a filesystem.
 * Sketch must call `httpUpdate.setFollowRedirects(HTTPC_FORCE_FOLLOW_REDIRECTS)`.
 */
import { DomainError } from '../../core/errors';
import { presentedSecret } from '../../core/security';
import { empty, json } from '../../shared/http';
import type { Implementations } from '../../shared/operations';
import type { ProtocolDeps } from '../types';
import type { arduinoHttpUpdate } from './contract';
import { parseArduinoHeaders } from './wire';

export function arduinoRoutes(deps: ProtocolDeps): Implementations<typeof arduinoHttpUpdate> {
  return {
    arduinoHttpUpdate: {
      async handle({ event }) {
        const productId = event.pathParameters?.productId ?? '';
        const headers = event.headers ?? {};
        const req = parseArduinoHeaders(headers);
        if (typeof req === 'string') throw new DomainError('invalid', 'invalid_arduino_request', req);
        const product = await deps.config.product(productId);
        if (!product) return json(404, { error: { code: 'unknown_product', message: `No product ${productId}` } });

        // No version header: identify the running build by the image hash HTTPUpdate reports.
        let version = req.version;
        if (!version && req.sketchSha256) {
          version = (await deps.config.releasedFirmware(productId)).find((f) => f.imageHash === req.sketchSha256)?.version;
        }
        const r = await deps.checks.check(productId, { deviceId: req.deviceId, version, hw: {} }, { credential: presentedSecret(headers) });
        if (r.unauthorized) return json(403, { error: { code: 'forbidden', message: 'Invalid or missing credential' } });
        if (r.decision.status !== 'update_available' || !r.offer) return empty(304);
        // `updateSpiffs()` (x-ESP32-mode: spiffs) flashes the answer into the filesystem partition:
        // the app image there would destroy the device's filesystem. Only a sketch-mode request may
        // get the app image; anything else has nothing to install.
        if (req.filesystem) return empty(304);
        if (req.freeSpace !== undefined && r.offer.app.size > req.freeSpace) return empty(304); // would not fit: do not start
        return empty(302, { location: r.offer.appUrl });
      },
    },
  };
}
