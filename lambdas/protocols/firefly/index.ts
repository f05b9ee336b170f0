/** FireFly / esp32FOTA: its operations and its product binding (class + hex). Pure. */
import * as z from 'zod/mini';
import { binding } from '../binding';
import { FIREFLY_OPERATIONS } from './contract';
import { PRODUCT_HEX_PATTERN } from './wire';

export const fireflyAlias = (productClass: string, productHex: string): string => `firefly#${productClass}#${productHex.toLowerCase()}`;

export const FIREFLY = {
  name: 'firefly',
  operations: FIREFLY_OPERATIONS,
  binding: binding({
    key: 'firefly',
    wire: z.strictObject({ product_class: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,32}$/)), product_hex: z.string().check(z.regex(PRODUCT_HEX_PATTERN)) }),
    toModel: (w) => ({ productClass: w.product_class, productHex: w.product_hex.toLowerCase() }),
    present: (m) => ({ product_class: m.productClass, product_hex: m.productHex }),
    aliases: (_productId, m) => [fireflyAlias(m.productClass, m.productHex)],
    cli: {
      flags: [
        { flag: '--firefly-class <class>', description: 'FireFly/esp32FOTA product class' },
        { flag: '--firefly-hex <hex>', description: 'FireFly product hex (0x…)' },
      ],
      fromFlags: (o) => {
        if (o.fireflyClass === undefined && o.fireflyHex === undefined) return undefined;
        if (!o.fireflyClass || !o.fireflyHex) throw new Error('--firefly-class and --firefly-hex go together');
        return { product_class: String(o.fireflyClass), product_hex: String(o.fireflyHex) };
      },
      describe: (w) => `${w.product_class} ${w.product_hex}`,
    },
  }),
} as const;
