/** What a device-protocol adapter needs; built once per container by its function's handler. */
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
 * A device function's handler: the route key picks the route; errors are shaped by the route's
 * protocol where it documents its own bodies, else by the shared mapping; metrics are flushed once.
 */
export function routedHandler(logger: Logger, fn: string, routes: ProtocolRoutes) {
  return httpHandler(
    logger,
    async (event) => {
      const route = routes[event.routeKey];
      if (!route) return json(404, { error: { code: 'route_not_found', message: `No ${fn} route ${event.routeKey}` } });
      return route.handle(event);
    },
    { onError: (e, event) => routes[event.routeKey]?.onError?.(e), flush: flushMetrics },
  );
}
