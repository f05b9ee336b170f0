/** What a device-protocol adapter needs; built once per container by its function's handler. */
import type { CheckService } from '../shared/check-service';
import type { ProductConfigCache } from '../shared/config-cache';
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
