/** IoTaaP: its device and operator operations and its product binding (devices found by id alone). Pure. */
import * as z from 'zod/mini';
import { binding } from '../binding';
import { IOTAAP_OPERATIONS } from './contract';

export const IOTAAP = {
  name: 'iotaap',
  operations: IOTAAP_OPERATIONS,
  binding: binding({
    key: 'iotaap',
    wire: z.boolean(),
    toModel: () => true as const,
    present: () => true as const,
    aliases: (productId) => [`iotaap#${productId}`],
    cli: {
      flags: [{ flag: '--iotaap', description: 'bind the IoTaaP protocol' }],
      fromFlags: (o) => (o.iotaap === undefined ? undefined : o.iotaap ? true : null),
      describe: () => 'bound',
    },
  }),
} as const;
