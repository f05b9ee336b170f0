/** Arduino-ESP32 HTTPUpdate: its operations (the product id is in its requests, so no binding). Pure. */
import { ARDUINO_OPERATIONS } from './contract';

export const ARDUINO = { name: 'arduino', operations: ARDUINO_OPERATIONS } as const;
