/** What a device-protocol adapter needs; built once per container by its function's handler. */
import { DEVICE_ID_PATTERN } from '../core/device-id';
import { DomainError } from '../core/errors';
import { PRODUCT_ID_PATTERN } from '../core/manifest';
import type { CheckService } from '../shared/check-service';
import type { ProductConfigCache } from '../shared/config-cache';
import { httpHandler, json, type HttpEvent, type HttpResult } from '../shared/http';
import { flushMetrics } from '../shared/metrics';
import type { Logger } from '../shared/logger';
import type { DeviceStore } from '../shared/store/device-store';
import type { UrlSigner } from '../shared/url-signer';

export interface ProtocolDeps {
  readonly checks: CheckService;
  readonly config: ProductConfigCache;
  readonly devices: DeviceStore;
  readonly signer: UrlSigner;
  readonly logger: Logger;
}

/** One route of a protocol: its handler and, optionally, the protocol's own error bodies. */
export interface ProtocolRoute {
  readonly handle: (event: HttpEvent) => Promise<HttpResult>;
  /** Shapes errors the way this protocol documents them; undefined falls back to the shared mapping. */
  readonly onError?: (e: unknown) => HttpResult | undefined;
}

export type ProtocolRoutes = Record<string, ProtocolRoute>;

/**
 * What each device-route path parameter may be. Every one becomes (part of) a DynamoDB key or an
 * alias lookup, so garbage is refused here, in one place, before any I/O: a 3,000-character
 * product id used to reach DynamoDB as a key and come back as a 503. Names not listed get the
 * generic bound (printable ASCII, at most 128 characters).
 */
export const PATH_PARAMETER_PATTERNS: Readonly<Record<string, RegExp>> = {
  productId: PRODUCT_ID_PATTERN,
  deviceId: DEVICE_ID_PATTERN,
  /** FireFly product class, as the admin API accepts it (`protocols.firefly.product_class`). */
  class: /^[A-Za-z0-9_-]{1,32}$/,
};
const CODES: Readonly<Record<string, string>> = { productId: 'invalid_product_id', deviceId: 'invalid_device_id', class: 'invalid_product_class' };
const GENERIC_PATH_PARAMETER = /^[\x21-\x7e]{1,128}$/;

/** Throws a 400 DomainError (`invalid_product_id`, `invalid_device_id`, … else `invalid_path_parameter`) for the first path parameter that is not acceptable. */
export function validatePathParameters(params: Readonly<Record<string, string | undefined>> | undefined): void {
  for (const [name, value] of Object.entries(params ?? {})) {
    const pattern = PATH_PARAMETER_PATTERNS[name] ?? GENERIC_PATH_PARAMETER;
    if (value === undefined || !pattern.test(value)) {
      throw new DomainError('invalid', CODES[name] ?? 'invalid_path_parameter', `Path parameter ${name} is not valid`, { fields: [name] });
    }
  }
}

/**
 * A device function's handler: the route key picks the route; errors are shaped by the route's
 * protocol where it documents its own bodies, else by the shared mapping; metrics are flushed once.
 */
export function routedHandler(logger: Logger, fn: string, routes: ProtocolRoutes) {
  return httpHandler(
    logger,
    async (event) => {
      const route = routes[event.routeKey];
      if (!route) return json(404, { error: { code: 'route_not_found', message: `No ${fn} route ${event.routeKey}` } });
      validatePathParameters(event.pathParameters); // shaped by the route's own onError like any DomainError
      return route.handle(event);
    },
    { onError: (e, event) => routes[event.routeKey]?.onError?.(e), flush: flushMetrics },
  );
}
