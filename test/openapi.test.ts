/**
 * The OpenAPI 3.1 document (lambdas/contract/openapi.ts): structurally valid, complete against the route
 * table (a new route without a registry entry fails here), every $ref resolving; served by the
 * local platform at GET /openapi.json; and true: real responses of the local platform conform to
 * the schemas, statuses and headers it documents (a tiny JSON Schema checker, no dependency).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { OPERATIONS } from '../lambdas/contract';
import { buildOpenApiDocument, openApiJson, type JsonObject, type OpenApiDocument } from '../lambdas/contract/openapi';
import { CheckRequestSchema } from '../lambdas/protocols/native/wire';
import { routeKey, ROUTES, type Route } from '../lambdas/routes';
import { version as packageVersion } from '../package.json';
import { buildEspImage } from './fixtures/esp-image';
import type { HttpReply } from './support/http-client';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { publishRelease } from './support/release';

const doc = buildOpenApiDocument();
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
/** Every route is an operation of the contract, so every route is documented. */
const documentedRoutes = ROUTES;
const operationOf = (r: Pick<Route, 'method' | 'path'>) => doc.paths[r.path]?.[r.method.toLowerCase()] as JsonObject | undefined;

/** Resolves a local JSON pointer (`#/components/schemas/X`) in the document; undefined when it does not. */
function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || !(key in node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
const deref = <T = JsonObject>(node: unknown): T => {
  let n = node as JsonObject;
  for (let i = 0; i < 10 && typeof n?.$ref === 'string'; i++) n = resolvePointer(doc, n.$ref) as JsonObject;
  return n as T;
};

function collectRefs(node: unknown, at: string, out: { at: string; ref: string }[] = []) {
  if (Array.isArray(node)) node.forEach((v, i) => collectRefs(v, `${at}/${i}`, out));
  else if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push({ at, ref: v });
      else collectRefs(v, `${at}/${k}`, out);
    }
  }
  return out;
}

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1.0 with info.version from package.json', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toEqual(expect.any(String));
    expect(doc.info.version).toBe(packageVersion);
    for (const path of Object.keys(doc.paths)) expect(path.startsWith('/')).toBe(true);
  });

  it('documents every operation of the contract, under its own summary and function', () => {
    expect(ROUTES).toHaveLength(OPERATIONS.length);
    for (const op of OPERATIONS) {
      const documented = operationOf(op);
      expect({ route: routeKey(op), documented: documented !== undefined }).toEqual({ route: routeKey(op), documented: true });
      expect(documented!.operationId).toBe(op.id);
      expect(documented!.summary).toBe(op.summary);
      expect(documented!['x-ota-function']).toBe(op.fn);
    }
  });

  it('documents exactly the routes of the route table (no extra operation)', () => {
    const keys = new Set(ROUTES.map(routeKey));
    expect(keys.size).toBe(ROUTES.length);
    const inDoc = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((m) => HTTP_METHODS.includes(m))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(inDoc.sort()).toEqual([...keys].sort());
  });

  it('documents a subset of the contract when asked (the local gateway serves its own routes)', () => {
    const some = OPERATIONS.filter((o) => o.tag === 'native');
    expect(Object.keys(buildOpenApiDocument(some).paths).sort()).toEqual(some.map((o) => o.path).sort());
  });

  it('declares every {param} of a route as a required path parameter, and no other', () => {
    for (const route of documentedRoutes) {
      const params = ((operationOf(route)!.parameters ?? []) as JsonObject[]).map((p) => deref(p));
      const names = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const inPath = params.filter((p) => p.in === 'path');
      expect({ route: routeKey(route), path: inPath.map((p) => p.name) }).toEqual({ route: routeKey(route), path: names });
      for (const p of inPath)
        expect({ name: p.name, required: p.required, schema: typeof p.schema }).toEqual({ name: p.name, required: true, schema: 'object' });
      // Structurally valid parameters: a known location, a schema, no duplicate (name, in).
      for (const p of params) {
        expect(['path', 'query', 'header', 'cookie']).toContain(p.in);
        expect(p.schema).toEqual(expect.any(Object));
      }
      const ids = params.map((p) => `${p.in}:${String(p.name).toLowerCase()}`);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('has unique operationIds', () => {
    const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
    expect(ids).toHaveLength(ROUTES.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it('resolves every $ref', () => {
    const refs = collectRefs(doc, '#');
    expect(refs.length).toBeGreaterThan(50);
    expect(refs.filter(({ ref }) => resolvePointer(doc, ref) === undefined)).toEqual([]);
  });

  it('documents a success response and valid status codes on every operation', () => {
    for (const route of documentedRoutes) {
      const responses = operationOf(route)!.responses as Record<string, unknown>;
      const statuses = Object.keys(responses);
      expect({ route: routeKey(route), success: statuses.some((s) => /^[23]\d\d$/.test(s)) }).toEqual({ route: routeKey(route), success: true });
      for (const s of statuses) expect(s).toMatch(/^[1-5]\d\d$/);
      for (const r of Object.values(responses)) expect(deref(r).description).toEqual(expect.any(String));
    }
  });

  it('secures operator routes with SigV4 and lets device routes present an optional device secret', () => {
    expect(doc.components.securitySchemes.sigv4).toEqual(
      expect.objectContaining({ type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'awsSigv4' }),
    );
    expect(doc.components.securitySchemes.deviceBearer).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    expect(doc.components.securitySchemes.deviceOtaKey).toEqual(expect.objectContaining({ type: 'apiKey', name: 'X-OTA-Key', in: 'header' }));
    for (const route of documentedRoutes) {
      const security = operationOf(route)!.security as Record<string, unknown>[];
      if (route.auth === 'iam') {
        expect({ route: routeKey(route), security }).toEqual({ route: routeKey(route), security: [{ sigv4: [] }] });
        expect((operationOf(route)!.responses as JsonObject)['403']).toBeDefined();
      } else if (security.length) {
        // Optional: the empty requirement (open products) comes first.
        expect({ route: routeKey(route), first: security[0] }).toEqual({ route: routeKey(route), first: {} });
        expect(security).toContainEqual({ deviceBearer: [] });
        expect(security).toContainEqual({ deviceOtaKey: [] });
      }
      for (const req of security) for (const name of Object.keys(req)) expect(doc.components.securitySchemes[name]).toBeDefined();
    }
    // The native API takes the secret; the IoTaaP download authenticates by its in-path token instead.
    expect(operationOf({ method: 'POST', path: '/api/v1/ota/check' })!.security).toContainEqual({});
    expect(operationOf({ method: 'GET', path: '/v1/ota/device/download/{deviceIdAndToken}' })!.security).toEqual([]);
  });

  it('converts request schemas from the zod schemas the handlers use', () => {
    const { $schema: _s, ...check } = z.toJSONSchema(CheckRequestSchema, { target: 'draft-2020-12', io: 'input' }) as JsonObject;
    expect(doc.components.schemas.CheckRequest).toEqual(check);
    expect(deref(operationOf({ method: 'POST', path: '/api/v1/ota/check' })!.requestBody)).toEqual({
      required: true,
      description: expect.any(String),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/CheckRequest' } } },
    });
    // Strict operator schemas stay strict; the CI manifest is a component though not an HTTP body.
    expect(doc.components.schemas.PutProductRequest.additionalProperties).toBe(false);
    expect(doc.components.schemas.IngestManifest).toEqual(expect.objectContaining({ type: 'object', required: ['product', 'version', 'files'] }));
    // Query strings become parameters (FireFly's current_version is required; its version refinement is not representable).
    const firefly = operationOf({ method: 'GET', path: '/ota/{class}/{productHex}' })!.parameters as JsonObject[];
    expect(firefly).toContainEqual({ name: 'current_version', in: 'query', required: true, schema: { type: 'string', maxLength: 64 } });
  });

  it('documents the 503 with a Retry-After header and the redirects with a Location header', () => {
    const unavailable = deref(doc.components.responses.Unavailable) as { headers: Record<string, JsonObject> };
    expect(unavailable.headers['Retry-After']).toEqual(expect.objectContaining({ required: true }));
    const arduino = operationOf({ method: 'GET', path: '/api/v1/ota/arduino/{productId}' })!.responses as Record<string, JsonObject>;
    expect(Object.keys(arduino)).toEqual(expect.arrayContaining(['302', '304']));
    expect((arduino['302'].headers as Record<string, JsonObject>).Location).toEqual(expect.objectContaining({ required: true }));
    expect(arduino['304'].content).toBeUndefined();
    const activation = operationOf({ method: 'POST', path: '/toy/ota/activate' })!.responses as Record<string, JsonObject>;
    expect(activation['200'].content).toEqual({ 'text/plain': { schema: { type: 'string', const: 'success' } } });
    expect(activation['202'].content).toBeUndefined();
  });
});

/* ───────── a tiny checker for the JSON Schema subset the document uses ───────── */

/**
 * Errors of `value` against `schema`. Besides JSON Schema, an object may carry no property the
 * schema does not document (responses must be fully documented, though the schemas stay open).
 */
function check(schema: unknown, value: unknown, at = '$'): string[] {
  const s = deref(schema);
  if (s === undefined) return [`${at}: unresolvable schema`];
  const errors: string[] = [];
  const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);
  if (s.allOf) {
    for (const part of s.allOf as unknown[]) errors.push(...check({ ...deref<JsonObject>(part), 'x-open': true }, value, at));
    const known = new Set((s.allOf as unknown[]).flatMap((p) => Object.keys((deref(p).properties as object) ?? {})));
    if (typeOf(value) === 'object') for (const k of Object.keys(value as object)) if (!known.has(k)) errors.push(`${at}.${k}: undocumented property`);
  }
  if (s.anyOf && !(s.anyOf as unknown[]).some((b) => check(b, value, at).length === 0)) errors.push(`${at}: matches no anyOf branch`);
  if (s.oneOf) {
    const n = (s.oneOf as unknown[]).filter((b) => check(b, value, at).length === 0).length;
    if (n !== 1) errors.push(`${at}: matches ${n} oneOf branches`);
  }
  if (s.const !== undefined && value !== s.const) errors.push(`${at}: ${JSON.stringify(value)} is not ${JSON.stringify(s.const)}`);
  if (s.enum && !(s.enum as unknown[]).includes(value)) errors.push(`${at}: ${JSON.stringify(value)} not in enum`);
  if (s.type) {
    const types = ([] as string[]).concat(s.type as string);
    const t = typeOf(value);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) return [...errors, `${at}: ${t} is not ${types.join('|')}`];
  }
  if (typeof value === 'string') {
    if (s.pattern && !new RegExp(s.pattern as string).test(value)) errors.push(`${at}: ${JSON.stringify(value)} does not match ${s.pattern}`);
    if (typeof s.minLength === 'number' && value.length < s.minLength) errors.push(`${at}: too short`);
    if (typeof s.maxLength === 'number' && value.length > s.maxLength) errors.push(`${at}: too long`);
  }
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) errors.push(`${at}: below ${s.minimum}`);
    if (typeof s.maximum === 'number' && value > s.maximum) errors.push(`${at}: above ${s.maximum}`);
  }
  if (Array.isArray(value) && s.items) value.forEach((v, i) => errors.push(...check(s.items, v, `${at}[${i}]`)));
  if (typeOf(value) === 'object' && (s.properties || s.additionalProperties !== undefined)) {
    const obj = value as Record<string, unknown>;
    const props = (s.properties ?? {}) as Record<string, unknown>;
    for (const k of (s.required ?? []) as string[]) if (!(k in obj)) errors.push(`${at}.${k}: required`);
    for (const [k, v] of Object.entries(obj)) {
      if (k in props) errors.push(...check(props[k], v, `${at}.${k}`));
      else if (typeof s.additionalProperties === 'object') errors.push(...check(s.additionalProperties, v, `${at}.${k}`));
      else if (!s['x-open']) errors.push(`${at}.${k}: undocumented property`);
    }
  }
  return errors;
}

describe('GET /openapi.json and the documented behaviour, on the local platform', () => {
  let t: TestPlatform;
  const ids: Record<string, string | number> = {};

  /** The reply's status is documented for the route, and its body and headers are what is documented. */
  function expectDocumented(route: `${Route['method']} ${string}`, reply: HttpReply) {
    const [method, path] = route.split(' ');
    const op = operationOf({ method: method as Route['method'], path });
    expect(op).toBeDefined();
    const documented = (op!.responses as Record<string, unknown>)[String(reply.status)];
    expect({ route, status: reply.status, documented: documented !== undefined }).toEqual({ route, status: reply.status, documented: true });
    const response = deref(documented);
    const content = response.content as Record<string, { schema: unknown }> | undefined;
    const type = reply.headers.get('content-type') ?? '';
    if (!content) {
      expect({ route, status: reply.status, body: reply.text }).toEqual({ route, status: reply.status, body: '' });
    } else if (content['application/json']) {
      expect(type).toMatch(/^application\/json/);
      expect({ route, status: reply.status, errors: check(content['application/json'].schema, reply.body) }).toEqual({
        route,
        status: reply.status,
        errors: [],
      });
    } else {
      expect(type).toMatch(/^text\/plain/);
      expect(check(content['text/plain'].schema, reply.text)).toEqual([]);
    }
    for (const [name, h] of Object.entries((response.headers ?? {}) as Record<string, unknown>)) {
      if (deref(h).required) expect({ route, header: name, present: reply.headers.has(name) }).toEqual({ route, header: name, present: true });
    }
  }

  beforeAll(async () => {
    t = await startTestPlatform();
  });
  afterAll(async () => {
    await t?.platform.stop();
  });

  it('serves the document as application/json, built once', async () => {
    const r = await t.api.get('/openapi.json');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.body).toEqual(JSON.parse(JSON.stringify(doc)) as OpenApiDocument);
    const again = await t.api.get('/openapi.json');
    expect(again.text).toBe(r.text);
    expect((await t.api.post('/openapi.json', {})).status).toBe(404);
  });

  it('operator product routes answer as documented', async () => {
    expectDocumented(
      'PUT /admin/v1/products/{productId}',
      await t.api.put('/admin/v1/products/oa', {
        chip: 'esp32',
        security_mode: 'open',
        firmware_type: 'Doc Board',
        protocols: { firefly: { product_class: 'doc', product_hex: '0x0A' }, cheeko: { application: 'oa-toy' }, iotaap: true },
      }),
    );
    expectDocumented('PUT /admin/v1/products/{productId}', await t.api.put('/admin/v1/products/oa', { chip: 'esp32', security_mode: 'open', bogus: 1 }));
    expectDocumented('GET /admin/v1/products/{productId}', await t.api.get('/admin/v1/products/oa'));
    expectDocumented('GET /admin/v1/products/{productId}', await t.api.get('/admin/v1/products/nope'));
    const key = await t.api.post('/admin/v1/products/oa/key');
    expect(key.status).toBe(201);
    expectDocumented('POST /admin/v1/products/{productId}/key', key);
    expectDocumented('DELETE /admin/v1/products/{productId}/key/previous', await t.api.call('DELETE', '/admin/v1/products/oa/key/previous'));
  });

  it('firmware and deployment routes answer as documented', async () => {
    const files = { 'app.bin': buildEspImage({ chip: 'esp32', version: '1.1.0', fill: 7 }), 'ui.bin': Buffer.alloc(4096, 1), 'pkg.ufw': Buffer.alloc(2048, 2) };
    const published = await publishRelease(t.platform, { product: 'oa', version: '1.1.0', files, manifest: { release: true, notes: 'doc' } });
    expect(published.status).toBe('accepted');
    ids.build = published.build_number;
    const draft = await publishRelease(t.platform, {
      product: 'oa',
      version: '1.2.0',
      files: { 'app.bin': buildEspImage({ chip: 'esp32', version: '1.2.0', fill: 8 }) },
    });
    ids.draft = draft.build_number;

    expectDocumented('GET /admin/v1/products/{productId}/firmware', await t.api.get('/admin/v1/products/oa/firmware?limit=1'));
    expectDocumented('GET /admin/v1/products/{productId}/firmware', await t.api.get('/admin/v1/products/oa/firmware?limit=0'));
    expectDocumented('GET /admin/v1/products/{productId}/firmware/{build}', await t.api.get(`/admin/v1/products/oa/firmware/${ids.build}`));
    expectDocumented('GET /admin/v1/products/{productId}/firmware/{build}', await t.api.get('/admin/v1/products/oa/firmware/x'));

    const dep = await t.api.post('/admin/v1/products/oa/deployments', { build: ids.build, percentage: 100 });
    expect(dep.status).toBe(201);
    expectDocumented('POST /admin/v1/products/{productId}/deployments', dep);
    ids.deployment = dep.body.deployment_id;
    expectDocumented('GET /admin/v1/products/{productId}/deployments/{deploymentId}', await t.api.get(`/admin/v1/products/oa/deployments/${ids.deployment}`));

    expectDocumented('POST /admin/v1/products/{productId}/firmware/{build}/release', await t.api.post(`/admin/v1/products/oa/firmware/${ids.draft}/release`));
    const canary = await t.api.post('/admin/v1/products/oa/deployments', { build: ids.draft, percentage: 5, channel: 'beta' });
    expectDocumented(
      'POST /admin/v1/products/{productId}/deployments/{deploymentId}/promote',
      await t.api.post(`/admin/v1/products/oa/deployments/${canary.body.deployment_id}/promote`, { percentage: 10 }),
    );
    expectDocumented(
      'POST /admin/v1/products/{productId}/deployments/{deploymentId}/promote',
      await t.api.post(`/admin/v1/products/oa/deployments/${canary.body.deployment_id}/promote`, { percentage: 1 }),
    );
    expectDocumented(
      'POST /admin/v1/products/{productId}/deployments/{deploymentId}/pause',
      await t.api.post(`/admin/v1/products/oa/deployments/${canary.body.deployment_id}/pause`),
    );
    expectDocumented(
      'POST /admin/v1/products/{productId}/deployments/{deploymentId}/resume',
      await t.api.post(`/admin/v1/products/oa/deployments/${canary.body.deployment_id}/resume`),
    );
    const revoked = await t.api.post(`/admin/v1/products/oa/firmware/${ids.draft}/revoke`);
    expect(revoked.body.paused_deployments).toEqual([canary.body.deployment_id]);
    expectDocumented('POST /admin/v1/products/{productId}/firmware/{build}/revoke', revoked);
    expectDocumented(
      'POST /admin/v1/products/{productId}/deployments/{deploymentId}/resume',
      await t.api.post(`/admin/v1/products/oa/deployments/${canary.body.deployment_id}/resume`),
    );
    const cancelled = await t.api.post(`/admin/v1/products/oa/deployments/${canary.body.deployment_id}/cancel`);
    expect(cancelled.body.state).toBe('cancelled');
    expectDocumented('POST /admin/v1/products/{productId}/deployments/{deploymentId}/cancel', cancelled);
    expectDocumented(
      'POST /admin/v1/products/{productId}/deployments/{deploymentId}/cancel',
      await t.api.post('/admin/v1/products/oa/deployments/dep_nope/cancel'),
    );

    const scheduled = await t.api.post('/admin/v1/products/oa/deployments', {
      build: ids.build,
      channel: 'sched',
      groups: ['lab'],
      schedule: [
        { percentage: 10, soak_minutes: 60, min_success_rate: 0.9 },
        { percentage: 100, soak_minutes: 0, min_success_rate: 0.9 },
      ],
      max_failures: 3,
      in_progress_timeout_minutes: 30,
    });
    expect(scheduled.body.schedule).toEqual(expect.objectContaining({ current_step: 0 }));
    expectDocumented('POST /admin/v1/products/{productId}/deployments', scheduled);
    expectDocumented(
      'POST /admin/v1/products/{productId}/deployments',
      await t.api.post('/admin/v1/products/oa/deployments', { build: ids.draft, percentage: 10 }),
    );
    expectDocumented('POST /admin/v1/products/{productId}/deployments', await t.api.post('/admin/v1/products/oa/deployments', { build: ids.build }));
    const list = await t.api.get('/admin/v1/products/oa/deployments');
    expect(list.body.items).toHaveLength(3);
    expectDocumented('GET /admin/v1/products/{productId}/deployments', list);
    expectDocumented('GET /admin/v1/products/{productId}/deployments', await t.api.get('/admin/v1/products/oa/deployments?state=cancelled'));
  });

  it('native device routes answer as documented', async () => {
    const offer = await t.api.post('/api/v1/ota/check', { product: 'oa', device_id: 'AA:BB:CC:00:00:01', version: '1.0.0' });
    expect(offer.body).toEqual(expect.objectContaining({ status: 'update_available', ui: expect.any(Object) }));
    expectDocumented('POST /api/v1/ota/check', offer);
    expectDocumented('POST /api/v1/ota/check', await t.api.post('/api/v1/ota/check', { product: 'nope', device_id: 'AA:BB:CC:00:00:01' }));
    expectDocumented('POST /api/v1/ota/check', await t.api.post('/api/v1/ota/check', '{not json', { 'content-type': 'application/json' }));
    const status = await t.api.post('/api/v1/ota/status', {
      product: 'oa',
      device_id: 'AA:BB:CC:00:00:01',
      build_number: ids.build,
      status: 'downloading',
      deployment_id: ids.deployment,
    });
    expect(status.body).toEqual(expect.objectContaining({ ok: true, result: 'recorded' }));
    expectDocumented('POST /api/v1/ota/status', status);
    expectDocumented('POST /api/v1/ota/status', await t.api.post('/api/v1/ota/status', { product: 'oa' }));
  });

  it('FireFly and Arduino routes answer as documented', async () => {
    const manifest = await t.api.get('/ota/doc/0x0a?current_version=1.0.0');
    expect(manifest.body).toEqual(expect.objectContaining({ version: '1.1.0', app: expect.any(String), ui: expect.any(String) }));
    expectDocumented('GET /ota/{class}/{productHex}', manifest);
    expectDocumented('GET /ota/{class}/{productHex}', await t.api.get('/ota/doc/0x0a?current_version=1.1.0'));
    expectDocumented('GET /ota/{class}/{productHex}', await t.api.get('/ota/doc/0x0a'));
    expectDocumented('GET /ota/{class}/{productHex}', await t.api.get('/ota/nope/0x0b?current_version=1.0.0'));

    const mac = { 'x-ESP32-STA-MAC': 'AA:BB:CC:00:00:05' };
    const redirect = await t.api.get('/api/v1/ota/arduino/oa', { ...mac, 'x-ESP32-version': '1.0.0' });
    expect(redirect.status).toBe(302);
    expectDocumented('GET /api/v1/ota/arduino/{productId}', redirect);
    expectDocumented('GET /api/v1/ota/arduino/{productId}', await t.api.get('/api/v1/ota/arduino/oa', { ...mac, 'x-ESP32-version': '1.1.0' }));
    expectDocumented('GET /api/v1/ota/arduino/{productId}', await t.api.get('/api/v1/ota/arduino/oa'));
    expectDocumented('GET /api/v1/ota/arduino/{productId}', await t.api.get('/api/v1/ota/arduino/nope', mac));
  });

  it('Cheeko routes answer as documented', async () => {
    const boot = await t.api.post('/toy/ota', { application: 'oa-toy', version: '1.0.0', board: 'esp32' }, { 'Device-Id': 'AA:BB:CC:00:00:06' });
    expect(boot.body.firmware).toEqual(expect.objectContaining({ version: '1.1.0' }));
    expectDocumented('POST /toy/ota', boot);
    expectDocumented('POST /toy/ota', await t.api.post('/toy/ota', { application: 'oa-toy', mac: 'not-a-mac' }));
    expectDocumented('GET /toy/ota', await t.api.get('/toy/ota?application=oa-toy'));
    const active = await t.api.post('/toy/ota/activate', { application: 'oa-toy' }, { 'Device-Id': 'AA:BB:CC:00:00:06' });
    expect(active.status).toBe(200);
    expectDocumented('POST /toy/ota/activate', active);
    expectDocumented('POST /toy/ota/activate', await t.api.post('/toy/ota/activate', { application: 'oa-toy' }, { 'Device-Id': 'AA:BB:CC:00:00:99' }));
  });

  it('device and assignment operator routes, Bota and IoTaaP answer as documented', async () => {
    const device = 'AA:BB:CC:00:00:02';
    expectDocumented('POST /admin/v1/products/{productId}/devices/{deviceId}/token', await t.api.post(`/admin/v1/products/oa/devices/${device}/token`));
    expectDocumented('GET /admin/v1/products/{productId}/devices/{deviceId}/assignment', await t.api.get(`/admin/v1/products/oa/devices/${device}/assignment`));
    const assigned = await t.api.put(`/admin/v1/products/oa/devices/${device}/assignment`, { build: ids.build });
    expect(assigned.status).toBe(201);
    expectDocumented('PUT /admin/v1/products/{productId}/devices/{deviceId}/assignment', assigned);
    expectDocumented(
      'PUT /admin/v1/products/{productId}/devices/{deviceId}/assignment',
      await t.api.put(`/admin/v1/products/oa/devices/${device}/assignment`, { build: ids.draft }),
    );

    const hb = await t.api.post(`/api/v1/devices/${device}/heartbeat`, { product: 'oa', firmware_version: '1.0.0', model: 'esp32' });
    expect(hb.body.ota).toEqual(expect.objectContaining({ version: '1.1.0', assignment_id: assigned.body.assignment_id }));
    expectDocumented('POST /api/v1/devices/{deviceId}/heartbeat', hb);
    expectDocumented('POST /api/v1/devices/{deviceId}/heartbeat', await t.api.post(`/api/v1/devices/${device}/heartbeat`, { firmware_version: '1.0.0' }));
    const latest = await t.api.get('/api/v1/products/oa/releases/latest?current_version=1.0.0&model=esp32');
    expect(latest.body).toEqual(expect.objectContaining({ status: 'update_available', ufw: expect.any(Object) }));
    expectDocumented('GET /api/v1/products/{productId}/releases/latest', latest);
    expectDocumented('GET /api/v1/products/{productId}/releases/latest', await t.api.get('/api/v1/products/oa/releases/latest?current_version=9.0.0'));
    expectDocumented('GET /api/v1/products/{productId}/releases/latest', await t.api.get('/api/v1/products/nope/releases/latest?current_version=1.0.0'));
    expectDocumented('GET /api/v1/products/{productId}/releases/latest', await t.api.get('/api/v1/products/oa/releases/latest'));

    expectDocumented('GET /admin/v1/products/{productId}/devices/{deviceId}', await t.api.get(`/admin/v1/products/oa/devices/${device}`));
    const reported = await t.api.get('/admin/v1/products/oa/devices/AA:BB:CC:00:00:01');
    expect(reported.body.history).toContainEqual(expect.objectContaining({ status: 'downloading' }));
    expectDocumented('GET /admin/v1/products/{productId}/devices/{deviceId}', reported);
    const patched = await t.api.call('PATCH', `/admin/v1/products/oa/devices/${device}`, { groups: ['lab'], tags: { room: 'r1' } });
    expect(patched.body).toEqual(expect.objectContaining({ groups: ['lab'], tags: { room: 'r1' } }));
    expectDocumented('PATCH /admin/v1/products/{productId}/devices/{deviceId}', patched);
    expectDocumented(
      'PATCH /admin/v1/products/{productId}/devices/{deviceId}',
      await t.api.call('PATCH', `/admin/v1/products/oa/devices/${device}`, { colour: 'red' }),
    );
    expectDocumented(
      'PATCH /admin/v1/products/{productId}/devices/{deviceId}',
      await t.api.call('PATCH', '/admin/v1/products/oa/devices/AA:BB:CC:00:00:97', { active: false }),
    );
    const devices = await t.api.get('/admin/v1/products/oa/devices?limit=2');
    expect(devices.body.items).toHaveLength(2);
    expectDocumented('GET /admin/v1/products/{productId}/devices', devices);
    expectDocumented('GET /admin/v1/products/{productId}/devices', await t.api.get('/admin/v1/products/oa/devices?limit=0'));
    expectDocumented('GET /admin/v1/products/{productId}/devices/{deviceId}', await t.api.get('/admin/v1/products/oa/devices/%20bad'));
    expectDocumented('GET /admin/v1/products/{productId}/devices/{deviceId}/assignment', await t.api.get(`/admin/v1/products/oa/devices/${device}/assignment`));

    const latestVer = await t.api.get(`/v1/ota/device/latest/${device}`);
    expect(latestVer.body).toEqual({ ver: '1.1.0' });
    expectDocumented('GET /v1/ota/device/latest/{deviceId}', latestVer);
    expectDocumented('GET /v1/ota/device/latest/{deviceId}', await t.api.get('/v1/ota/device/latest/AA:BB:CC:00:00:98'));
    expectDocumented('GET /v1/ota/device/download/{deviceIdAndToken}', await t.api.get(`/v1/ota/device/download/${device}${'A'.repeat(24)}`));
    const list = await t.api.get('/v1/ota/device?limit=5&order_dir=asc&draw=3');
    expect(list.body.otas).toContainEqual(expect.objectContaining({ device, version: '1.1.0' }));
    expectDocumented('GET /v1/ota/device', list);
    expectDocumented('GET /v1/ota/device', await t.api.get('/v1/ota/device?order_dir=up'));
    const form = new FormData();
    form.append('version', '1.0.0');
    const upload = await fetch(`${t.platform.apiUrl}/v1/ota/device`, { method: 'POST', body: form });
    const text = await upload.text();
    expectDocumented('POST /v1/ota/device', { status: upload.status, headers: upload.headers, text, body: JSON.parse(text) });

    expectDocumented(
      'DELETE /admin/v1/products/{productId}/devices/{deviceId}/assignment',
      await t.api.call('DELETE', `/admin/v1/products/oa/devices/${device}/assignment`),
    );
    expectDocumented(
      'DELETE /admin/v1/products/{productId}/devices/{deviceId}/assignment',
      await t.api.call('DELETE', `/admin/v1/products/oa/devices/${device}/assignment`),
    );
  });
});

describe('docs/openapi.json', () => {
  it('is the document the contract generates (run `npm run openapi` after changing an operation)', () => {
    const committed = readFileSync(join(__dirname, '..', 'docs', 'openapi.json'), 'utf8');
    expect(committed === openApiJson()).toBe(true);
  });

  it('passes `redocly lint` (recommended rules, redocly.yaml) with no error and no warning', () => {
    const cli = join(__dirname, '..', 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
    const r = spawnSync(process.execPath, [cli, 'lint', 'docs/openapi.json', '--format=json'], {
      cwd: join(__dirname, '..'),
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    const report = JSON.parse(r.stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string }[] };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    expect(r.status).toBe(0);
  }, 30_000);
});
