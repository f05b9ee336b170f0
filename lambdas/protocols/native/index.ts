/** The native device API (SimpleOTA-shaped): its operations (the product id is in its requests, so no binding). Pure. */
import { NATIVE_OPERATIONS } from './contract';

export const NATIVE = { name: 'native', operations: NATIVE_OPERATIONS } as const;
