/**
 * A typed client's view of the contract: what a call of an operation takes (CallArgs), what its
 * success answers with (SuccessBody) and the HTTP request it becomes (requestFor). Pure (type
 * imports only, no node:), so otactl and the browser console share it.
 */
import type * as z from 'zod/mini';
import type { HttpMethod, Operation, RequestBody } from './operation';

/** RFC 3986 encoding, the one SigV4 canonicalises with (encodeURIComponent leaves !'()* alone). */
export const strictEncode = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

type ParamsArg<O extends Operation> = O extends { readonly params: infer P extends z.ZodMiniObject }
  ? { readonly params: z.input<P> }
  : { readonly params?: never };
type QueryArg<O extends Operation> = O extends { readonly query: infer Q extends z.ZodMiniObject }
  ? { readonly query?: z.input<Q> }
  : { readonly query?: never };
type BodyArg<O extends Operation> = O extends { readonly body: infer B extends RequestBody }
  ? B extends { readonly required: true }
    ? { readonly body: z.input<B['schema']> }
    : { readonly body?: z.input<B['schema']> }
  : { readonly body?: never };

/** What a call of `O` takes: its path parameters, query and body, as the declaration's schemas accept them. */
export type CallArgs<O extends Operation> = ParamsArg<O> & QueryArg<O> & BodyArg<O>;

/** The statuses a client takes for success (the contract declares no other 2xx). */
type SuccessStatus = 200 | 201 | 202 | 204;
type SchemaOutput<S> = S extends readonly (infer E)[] ? (E extends z.ZodMiniType ? z.output<E> : never) : S extends z.ZodMiniType ? z.output<S> : never;
type ReplyOutput<R> = R extends { readonly body: infer S } ? SchemaOutput<S> : R extends { readonly text: string } ? string : undefined;
type OkStatus<O extends Operation> = keyof O['responses'] & SuccessStatus;

/** The parsed body of `O`'s success replies (a union when it has several; `undefined` for a reply without a body). */
export type SuccessBody<O extends Operation> = { [S in OkStatus<O>]: ReplyOutput<O['responses'][S]> }[OkStatus<O>];

/** One HTTP request of an operation: `path` has every `{param}` filled and encoded; query and body pass through. */
export interface OperationRequest {
  readonly method: HttpMethod;
  readonly path: string;
  readonly query: Readonly<Record<string, unknown>> | undefined;
  readonly body: unknown;
}

/** The request a call of `op` sends. Throws when a path parameter is missing (an empty segment would address another route). */
export function requestFor<O extends Operation>(op: O, args: CallArgs<O>): OperationRequest {
  const { params, query, body } = args as { params?: Readonly<Record<string, unknown>>; query?: Readonly<Record<string, unknown>>; body?: unknown };
  const path = op.path.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) => {
    const v = params?.[name];
    if (v === undefined || v === null || v === '') throw new TypeError(`${op.id}: path parameter ${name} is missing`);
    return strictEncode(String(v));
  });
  return { method: op.method, path, query, body };
}
