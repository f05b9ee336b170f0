/** Bota heartbeat and the app's release lookup: its operations (the product id is in its requests, so no binding). Pure. */
import { BOTA_OPERATIONS } from './contract';

export const BOTA = { name: 'bota', operations: BOTA_OPERATIONS } as const;
