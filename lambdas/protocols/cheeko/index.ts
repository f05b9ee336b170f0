/** Cheeko toy OTA: its operations and its product binding (application; one default product). Pure. */
import * as z from 'zod/mini';
import { binding } from '../binding';
import { CHEEKO_OPERATIONS } from './contract';

/** `cheeko#<application>`; `cheeko#*` is the default product (requests naming no known application). */
export const cheekoAlias = (application: string | undefined): string => `cheeko#${application ?? '*'}`;

export const CHEEKO = {
  name: 'cheeko',
  operations: CHEEKO_OPERATIONS,
  binding: binding({
    key: 'cheeko',
    wire: z.strictObject({ application: z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,64}$/)), default: z.optional(z.boolean()) }),
    toModel: (w) => ({ application: w.application, ...(w.default ? { default: true } : {}) }),
    present: (m) => ({ application: m.application, default: Boolean(m.default) }),
    aliases: (_productId, m) => [cheekoAlias(m.application), ...(m.default ? [cheekoAlias(undefined)] : [])],
    cli: {
      flags: [
        { flag: '--cheeko-app <application>', description: 'Cheeko application name' },
        { flag: '--cheeko-default', description: 'this product answers Cheeko checks without an application' },
      ],
      fromFlags: (o) => {
        if (o.cheekoApp === undefined) {
          if (o.cheekoDefault !== undefined) throw new Error('--cheeko-default needs --cheeko-app');
          return undefined;
        }
        return { application: String(o.cheekoApp), ...(o.cheekoDefault ? { default: true } : {}) };
      },
      describe: (w) => `${w.application}${w.default ? ' (default)' : ''}`,
    },
  }),
} as const;
