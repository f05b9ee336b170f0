/**
 * Cheeko `POST /toy/ota/activate`: 200 plain `success` for a registered, active device; 202 with
 * an empty body for an unknown device, a missing MAC or any internal error. One cached product
 * lookup and one device GetItem. Its own file: the activation function bundles nothing else.
 */
import { isDomainError } from '../../core/errors';
import { authorizeDevice, presentedSecret } from '../../core/security';
import type { ProductConfigCache } from '../../shared/config-cache';
import { empty, header, parseJsonBody, retryAfterSeconds, text } from '../../shared/http';
import type { Logger } from '../../shared/logger';
import { countMaskedFault } from '../../shared/metrics';
import type { Implementations } from '../../shared/operations';
import type { DeviceStore } from '../../shared/store/device-store';
import type { cheekoActivate } from './contract';
import { cheekoAlias } from './index';
import { cheekoApplication, resolveCheekoMac } from './wire';

export function cheekoActivateRoutes(deps: {
  readonly config: ProductConfigCache;
  readonly devices: DeviceStore;
  readonly logger: Logger;
}): Implementations<typeof cheekoActivate> {
  const { config, devices, logger } = deps;
  return {
    cheekoActivate: {
      async handle({ event }) {
        let body: Record<string, unknown> = {};
        try {
          body = parseJsonBody(event, { allowEmpty: true });
        } catch {
          /* a body is optional when the Device-Id header is sent */
        }
        const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
        const mac = resolveCheekoMac(header(event, 'device-id'), { mac: str(body.mac), mac_address: str(body.mac_address) });
        if ('error' in mac) return empty(202);
        // Length-capped like the check route's (an overlong one is no bound application, never a DynamoDB key).
        const application = cheekoApplication(body.application);
        const product =
          (application ? await config.productByAlias(cheekoAlias(application)) : undefined) ?? (await config.productByAlias(cheekoAlias(undefined)));
        if (!product) return empty(202);
        const device = await devices.get(product.productId, mac.mac);
        if (!device || !device.active || !authorizeDevice(product, device, presentedSecret(event.headers ?? {}, str(body.token)))) return empty(202);
        logger.info('activated', { productId: product.productId, deviceId: mac.mac });
        return text(200, 'success');
      },
      // Seed: internal errors are 202 with an empty body too; a fault still carries Retry-After and
      // is counted (API Gateway's 5xx metric cannot see a 202).
      onError: (e) => {
        if (isDomainError(e)) return empty(202);
        logger.error('activation failed', e);
        countMaskedFault('POST /toy/ota/activate');
        return empty(202, { 'retry-after': String(retryAfterSeconds()) });
      },
    },
  };
}
