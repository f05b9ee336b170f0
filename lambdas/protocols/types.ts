/** What a device-protocol adapter needs; built once per container by its function's handler. */
import type { CheckService } from '../shared/check-service';
import type { ProductConfigCache } from '../shared/config-cache';
import type { HttpEvent, HttpResult } from '../shared/http';
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
