/**
 * The device protocols, one line each. Their operations join the contract (lambdas/contract/),
 * their bindings shape the product PUT's `protocols`, its alias items and otactl's flags. Pure:
 * CDK code and the CLI import it. A protocol's adapter is listed with its function's handler;
 * tsc fails there until every declared operation is implemented (docs/adding-a-protocol.md).
 */
import type { ProductProtocols } from '../core/model';
import { ARDUINO } from './arduino';
import type { ProtocolBinding } from './binding';
import { BOTA } from './bota';
import { CHEEKO } from './cheeko';
import { FIREFLY } from './firefly';
import { IOTAAP } from './iotaap';
import { NATIVE } from './native';

export const PROTOCOLS = [NATIVE, FIREFLY, ARDUINO, CHEEKO, IOTAAP, BOTA] as const;

export type ProtocolOperation = (typeof PROTOCOLS)[number]['operations'][number];
export const PROTOCOL_OPERATIONS: readonly ProtocolOperation[] = PROTOCOLS.flatMap((p): readonly ProtocolOperation[] => p.operations);

/** Every product binding. */
export const BINDINGS: readonly ProtocolBinding[] = PROTOCOLS.flatMap((p) => ('binding' in p ? [p.binding as unknown as ProtocolBinding] : []));

/** Alias items a product's protocol bindings claim (unique across products). */
export function protocolAliases(p: { readonly productId: string; readonly protocols?: ProductProtocols }): string[] {
  return BINDINGS.flatMap((b) => {
    const model = p.protocols?.[b.key];
    return model ? b.aliases(p.productId, model as never) : [];
  });
}

/** The stored bindings of a PUT's `protocols` (absent stays absent). */
export function protocolsFromWire(wire: Readonly<Record<string, unknown>> | undefined): ProductProtocols | undefined {
  if (!wire) return undefined;
  const out: Record<string, unknown> = {};
  for (const b of BINDINGS) if (wire[b.key] !== undefined && wire[b.key] !== false) out[b.key] = b.toModel(wire[b.key] as never);
  return out as ProductProtocols;
}

/** The product view's `protocols`. */
export function presentProtocols(model: ProductProtocols | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const b of BINDINGS) if (model?.[b.key]) out[b.key] = b.present(model[b.key] as never);
  return out;
}
