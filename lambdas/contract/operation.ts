/**
 * One declaration per HTTP operation: where it lives (method, path, function, auth), what it takes
 * (path, query, header and body schemas) and what it answers (a schema per status). The route
 * table, the handlers' dispatch and request parsing, the OpenAPI document, the CLI's types and the
 * console's client all come from these objects, so none of them can drift from another.
 */
import type * as z from 'zod/mini';

/**
 * The Lambda functions of the design card (plus the operator API). `upload` also takes S3 ingest
 * events; its HTTP route is IoTaaP's firmware upload, which feeds the same pipeline.
 */
export type FunctionName = 'check' | 'status' | 'activation' | 'upload' | 'admin';
export const FUNCTION_NAMES: readonly FunctionName[] = ['check', 'status', 'activation', 'upload', 'admin'];

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** `none`: device route (device security modes are enforced in the handler). `iam`: SigV4 operator route. */
export type RouteAuth = 'none' | 'iam';

export type Tag = 'native' | 'firefly' | 'arduino' | 'cheeko' | 'iotaap' | 'bota' | 'operator' | 'iotaap-operator';

/** Responses many operations share (`#/components/responses/<name>`); they come from the error mapping. */
export type SharedReply = 'BadRequest' | 'NotFound' | 'Conflict' | 'PayloadTooLarge' | 'Unavailable' | 'Forbidden';
export type HeaderName = 'Retry-After' | 'Location';

export interface BodyReply {
  readonly description: string;
  /** JSON body; several schemas: one of them. Omitted (with `text` omitted too): no body. */
  readonly body?: z.ZodMiniType | readonly z.ZodMiniType[];
  /** A text/plain body with exactly this content. */
  readonly text?: string;
  readonly headers?: readonly HeaderName[];
  /** Headers only sometimes present (documented, not required). */
  readonly optionalHeaders?: readonly HeaderName[];
}
export type Reply = SharedReply | BodyReply;

export interface RequestBody {
  readonly schema: z.ZodMiniType;
  readonly required: boolean;
  /** @default 'application/json' */
  readonly contentType?: string;
  readonly description?: string;
}

export interface Operation {
  /** operationId: unique, camelCase; the key handlers implement it under. */
  readonly id: string;
  readonly method: HttpMethod;
  /** API Gateway path with `{param}` placeholders; never ends in `/`. */
  readonly path: string;
  readonly fn: FunctionName;
  readonly auth: RouteAuth;
  readonly tag: Tag;
  /** Short human description (README, OpenAPI, logs, CLI help). */
  readonly summary: string;
  readonly description?: string;
  /** One property per `{param}` of the path: they become keys, so each is validated before a handler runs. */
  readonly params?: z.ZodMiniObject;
  readonly query?: z.ZodMiniObject;
  /** Header parameters (besides the device secret headers). */
  readonly headers?: z.ZodMiniObject;
  readonly body?: RequestBody;
  /**
   * Device wire formats are lenient in ways a schema cannot say (Cheeko drops a malformed optional
   * field, Arduino reads headers): the adapter parses query and body itself and the declared
   * schemas document them. Path parameters are validated either way.
   */
  readonly adapterParses?: true;
  /** Device routes: false when the route takes no device secret in headers (it is open or authenticates otherwise). */
  readonly deviceSecret?: boolean;
  readonly responses: Readonly<Record<number, Reply>>;
}

/** Declares an operation, keeping its literal types (ids, statuses, schemas) for the handlers. */
export const operation = <const O extends Operation>(o: O): O => o;

/** `"POST /api/v1/ota/check"` — the API Gateway HTTP API route key (also `event.routeKey`). */
export const routeKey = (o: Pick<Operation, 'method' | 'path'>): string => `${o.method} ${o.path}`;

/** The names of a path's `{param}` placeholders, in order. */
export const pathParamNames = (path: string): string[] => [...path.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]);

type Output<S> = S extends z.ZodMiniType ? z.output<S> : undefined;
type ReplyBody<R> = R extends { readonly body: infer S }
  ? S extends readonly (infer E)[]
    ? E extends z.ZodMiniType
      ? z.input<E>
      : never
    : S extends z.ZodMiniType
      ? z.input<S>
      : never
  : never;

/** Statuses an operation may answer with a JSON body of its own (not the shared error replies). */
export type JsonStatus<O extends Operation> = {
  [S in keyof O['responses']]: O['responses'][S] extends { readonly body: unknown } ? S : never;
}[keyof O['responses']] &
  number;
/** A presenter may hand out readonly arrays and objects: a reply is never mutated. */
type DeepReadonly<T> = T extends (infer E)[] ? readonly DeepReadonly<E>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;
/** The body type an operation declares for a status. */
export type ResponseBody<O extends Operation, S extends JsonStatus<O>> = DeepReadonly<ReplyBody<O['responses'][S]>>;

/** What an operation's handler receives, parsed by its declaration. */
export interface ParsedRequest<O extends Operation> {
  readonly params: Output<O['params']>;
  readonly query: O['adapterParses'] extends true ? undefined : Output<O['query']>;
  readonly body: O['adapterParses'] extends true ? undefined : O['body'] extends RequestBody ? z.output<O['body']['schema']> : undefined;
}
