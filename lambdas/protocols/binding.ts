/**
 * How a product binds a device protocol that carries no product id in its requests (FireFly's
 * class/hex, Cheeko's application, IoTaaP's device ids): the `protocols.<key>` shape of the
 * product PUT, what is stored, what the product view shows, the alias items the binding claims
 * (unique across products), and the otactl flags that set it. Pure.
 */
import type * as z from 'zod/mini';
import type { ProductProtocols } from '../core/model';

export type BindingKey = keyof ProductProtocols;

export interface CliFlag {
  /** commander spelling, e.g. `--firefly-class <class>`; a flag without `<…>` is boolean. */
  readonly flag: string;
  readonly description: string;
}

export interface ProtocolBinding<K extends BindingKey = BindingKey, W = unknown> {
  readonly key: K;
  /** The product PUT's `protocols.<key>`. */
  readonly wire: z.ZodMiniType<W>;
  toModel(wire: W): NonNullable<ProductProtocols[K]>;
  /** The product view's `protocols.<key>`. */
  present(model: NonNullable<ProductProtocols[K]>): unknown;
  /** Alias items the binding claims (`<protocol>#…`); another product holding one is a 409. */
  aliases(productId: string, model: NonNullable<ProductProtocols[K]>): string[];
  readonly cli: {
    readonly flags: readonly CliFlag[];
    /**
     * The wire value the flags ask for (commander's camelCase option names); undefined: the flags
     * say nothing about this binding; null: remove it. Throws a message for a wrong combination.
     */
    fromFlags(opts: Readonly<Record<string, unknown>>): W | null | undefined;
    /** One line for `product get`. */
    describe(wire: W): string;
  };
}

/** Keeps a binding's wire type while it is declared. */
export const binding = <K extends BindingKey, W>(b: ProtocolBinding<K, W>): ProtocolBinding<K, W> => b;
