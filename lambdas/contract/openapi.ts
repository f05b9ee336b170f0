/**
 * The OpenAPI 3.1 document, generated from the contract and nothing else: paths and methods,
 * parameters and bodies from each operation's schemas (`z.toJSONSchema`, draft 2020-12, the dialect
 * OpenAPI 3.1 uses), named schemas as components. Checks JSON Schema cannot say (refinements such
 * as "is a version") are left out, never a crash (`unrepresentable: 'any'`). Pure and fast, so the
 * local gateway serves it (`GET /openapi.json`) and `npm run openapi` writes docs/openapi.json.
 */
import * as z from 'zod/mini';
import { version as packageVersion } from '../../package.json';
import { OPERATIONS } from './index';
import type { BodyReply, HeaderName, Operation, Reply, SharedReply, Tag } from './operation';
import { CONTRACT_SCHEMAS, ErrorBody, GatewayMessage, SCHEMA_DESCRIPTIONS } from './schema';

export type JsonObject = { [key: string]: unknown };

/** Input mode: what a client sends. Response schemas have no transforms, so input and output agree;
 * `output` would only add `additionalProperties: false`, forbidding clients to tolerate new fields. */
const JSON_SCHEMA_OPTIONS = { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' } as const;

function ref(schema: z.ZodMiniType): JsonObject {
  const id = CONTRACT_SCHEMAS.get(schema)?.id;
  if (!id) throw new Error('A request or response body must be a named schema (contract/schema.ts `named`)');
  return { $ref: `#/components/schemas/${id}` };
}

function inline(schema: z.ZodMiniType): JsonObject {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, JSON_SCHEMA_OPTIONS) as JsonObject;
  return rest;
}

function componentSchemas(): Record<string, JsonObject> {
  const { schemas } = z.toJSONSchema(CONTRACT_SCHEMAS, { ...JSON_SCHEMA_OPTIONS, uri: (id) => `#/components/schemas/${id}` });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, s]) => {
      const { $schema: _s, $id: _i, ...rest } = s as JsonObject;
      const description = SCHEMA_DESCRIPTIONS.get(id);
      return [id, { ...(description ? { description } : {}), ...rest }];
    }),
  );
}

const SHARED_REPLIES: Record<SharedReply, BodyReply> = {
  BadRequest: { description: 'Malformed or out-of-range input; `error.code` names it (e.g. `validation_failed`, `invalid_json`)', body: ErrorBody },
  NotFound: { description: 'No such resource; `error.code` names it (e.g. `product_not_found`)', body: ErrorBody },
  Conflict: { description: 'The current state forbids the operation; `error.code` names it (e.g. `invalid_state`)', body: ErrorBody },
  PayloadTooLarge: { description: 'JSON body over 16 KiB (`payload_too_large`)', body: ErrorBody },
  Unavailable: { description: 'Infrastructure fault: back off for Retry-After seconds (`unavailable`)', body: ErrorBody, headers: ['Retry-After'] },
  Forbidden: { description: 'IAM (SigV4) authorisation failed (API Gateway; locally: a non-loopback client)', body: GatewayMessage },
};

const HEADERS: Record<HeaderName, JsonObject> = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 1 } },
  Location: { description: 'Signed, short-lived CDN URL of the firmware image', schema: { type: 'string', format: 'uri' } },
};

const DEVICE_SECRET_SCHEMES = ['deviceBearer', 'deviceOtaKey', 'deviceOtaToken', 'deviceBasic'] as const;
const SECURITY_SCHEMES = {
  sigv4: {
    type: 'apiKey',
    name: 'Authorization',
    in: 'header',
    description: 'Operator routes: AWS Signature Version 4 (IAM authorizer). The local platform admits loopback clients without a signature.',
    'x-amazon-apigateway-authtype': 'awsSigv4',
  },
  deviceBearer: {
    type: 'http',
    scheme: 'bearer',
    description:
      "Device secret (optional; required by products in `product_key` mode — the product key — or `device_token` mode — the device's token). It may also be sent in X-OTA-Key / X-OTA-Token, as the Basic password, or in the protocol's `token` body/query field.",
  },
  deviceOtaKey: { type: 'apiKey', name: 'X-OTA-Key', in: 'header', description: 'Device secret (product key or device token).' },
  deviceOtaToken: { type: 'apiKey', name: 'X-OTA-Token', in: 'header', description: 'Device secret (product key or device token).' },
  deviceBasic: {
    type: 'http',
    scheme: 'basic',
    description: 'Device secret as the password (Arduino HTTPUpdate `setAuthorization`); the user name is ignored.',
  },
} as const;

const TAGS: { name: Tag; description: string }[] = [
  { name: 'native', description: 'Native device API (SimpleOTA-shaped)' },
  { name: 'firefly', description: 'FireFly / esp32FOTA manifest' },
  { name: 'arduino', description: 'Arduino-ESP32 HTTPUpdate' },
  { name: 'cheeko', description: 'Cheeko toy OTA' },
  { name: 'iotaap', description: 'IoTaaP device routes' },
  { name: 'bota', description: 'Bota heartbeat and app release lookup' },
  { name: 'operator', description: 'Operator API (IAM / SigV4)' },
  { name: 'iotaap-operator', description: 'IoTaaP operator routes (IAM / SigV4)' },
];

/** One parameter per property of an object schema. */
function parameters(schema: z.ZodMiniObject | undefined, where: 'path' | 'query' | 'header'): JsonObject[] {
  if (!schema) return [];
  const json = inline(schema) as { properties?: Record<string, JsonObject>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => {
    const { description, ...rest } = s;
    return { name, in: where, required: where === 'path' || (json.required?.includes(name) ?? false), ...(description ? { description } : {}), schema: rest };
  });
}

function response(reply: Reply): JsonObject {
  if (typeof reply === 'string') return { $ref: `#/components/responses/${reply}` };
  const bodies = reply.body === undefined ? [] : Array.isArray(reply.body) ? [...reply.body] : [reply.body as z.ZodMiniType];
  // A header object may not say `required` through a $ref; required ones are inlined with the flag.
  const headers = {
    ...Object.fromEntries((reply.optionalHeaders ?? []).map((h) => [h, { $ref: `#/components/headers/${h}` }])),
    ...Object.fromEntries((reply.headers ?? []).map((h) => [h, { ...HEADERS[h], required: true }])),
  };
  return {
    description: reply.description,
    ...(Object.keys(headers).length ? { headers } : {}),
    ...(bodies.length
      ? { content: { 'application/json': { schema: bodies.length === 1 ? ref(bodies[0]) : { oneOf: bodies.map(ref) } } } }
      : reply.text !== undefined
        ? { content: { 'text/plain': { schema: { type: 'string', const: reply.text } } } }
        : {}),
  };
}

const DEVICE_SECURITY = [{}, ...DEVICE_SECRET_SCHEMES.map((s) => ({ [s]: [] }))];

function operationObject(op: Operation): JsonObject {
  const params = [...parameters(op.params, 'path'), ...parameters(op.query, 'query'), ...parameters(op.headers, 'header')];
  return {
    operationId: op.id,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.tag],
    ...(params.length ? { parameters: params } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: op.body.required,
            ...(op.body.description ? { description: op.body.description } : {}),
            content: { [op.body.contentType ?? 'application/json']: { schema: ref(op.body.schema) } },
          },
        }
      : {}),
    responses: Object.fromEntries(Object.entries(op.responses).map(([status, reply]) => [status, response(reply)])),
    security: op.auth === 'iam' ? [{ sigv4: [] }] : op.deviceSecret === false ? [] : DEVICE_SECURITY,
    'x-ota-function': op.fn,
  };
}

export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: JsonObject & { readonly title: string; readonly version: string };
  readonly servers: readonly JsonObject[];
  readonly tags: readonly JsonObject[];
  readonly paths: Record<string, Record<string, JsonObject>>;
  readonly components: {
    readonly schemas: Record<string, JsonObject>;
    readonly responses: Record<string, JsonObject>;
    readonly headers: Record<string, JsonObject>;
    readonly securitySchemes: Record<string, JsonObject>;
  };
}

/** Builds the document for `operations` (default: the whole contract). Pure; a few milliseconds. */
export function buildOpenApiDocument(operations: readonly Operation[] = OPERATIONS): OpenApiDocument {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const op of operations) (paths[op.path] ??= {})[op.method.toLowerCase()] = operationObject(op);
  return {
    openapi: '3.1.0',
    info: {
      title: 'ESP32 OTA platform',
      version: packageVersion,
      description: [
        'Device routes (`auth: none`; device security modes are enforced by the handlers) and operator routes (IAM / SigV4).',
        'In the cloud they are two HTTP APIs (device API and operator API); the local platform serves both on one port.',
        'Generated from the operation declarations in lambdas/contract/ by lambdas/contract/openapi.ts.',
      ].join(' '),
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [
      { url: 'http://127.0.0.1:3000', description: 'The local platform (`npm start`; OTA_PORT moves it)' },
      {
        url: 'https://{host}',
        description: 'A deployed stack: the device API or operator API host from the stack outputs',
        variables: { host: { default: 'example.execute-api.eu-west-1.amazonaws.com' } },
      },
    ],
    tags: TAGS,
    paths,
    components: {
      schemas: componentSchemas(),
      responses: Object.fromEntries(Object.entries(SHARED_REPLIES).map(([name, reply]) => [name, response(reply)])),
      headers: { 'Retry-After': HEADERS['Retry-After'] },
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}

/** The document as docs/openapi.json holds it (`npm run openapi`). */
export const openApiJson = (): string => `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
