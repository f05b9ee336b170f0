/**
 * The single route table. The CDK device/admin API constructs create one API Gateway route per
 * entry and the local gateway matches requests against the same entries, so cloud and laptop
 * cannot drift. Pure data: imported by CDK code, handlers and the local platform alike.
 *
 * Paths never end in `/`: API Gateway rejects such route keys and routes `/x/` to `/x`; the
 * local gateway strips one trailing slash the same way, so devices may call either form.
 */

/**
 * The Lambda functions of the design card (plus the operator API). `upload` also takes S3 ingest
 * events; its HTTP route is IoTaaP's firmware upload, which feeds the same pipeline.
 */
export type FunctionName = 'check' | 'status' | 'activation' | 'upload' | 'admin';
export const FUNCTION_NAMES: readonly FunctionName[] = ['check', 'status', 'activation', 'upload', 'admin'];

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** `none`: device route (device security modes are enforced in the handler). `iam`: SigV4 operator route. */
export type RouteAuth = 'none' | 'iam';

export interface Route {
  readonly method: HttpMethod;
  /** API Gateway path with `{param}` placeholders. */
  readonly path: string;
  readonly fn: FunctionName;
  readonly auth: RouteAuth;
  /** Short human description (README, OpenAPI, logs). */
  readonly summary: string;
}

const device = (method: HttpMethod, path: string, fn: FunctionName, summary: string): Route => ({
  method,
  path,
  fn,
  auth: 'none',
  summary,
});
const admin = (method: HttpMethod, path: string, summary: string, fn: FunctionName = 'admin'): Route => ({
  method,
  path,
  fn,
  auth: 'iam',
  summary,
});

const P = '/admin/v1/products/{productId}';

export const ROUTES: readonly Route[] = [
  // Native device API (SimpleOTA-shaped).
  device('POST', '/api/v1/ota/check', 'check', 'Device asks whether an update is available'),
  device('POST', '/api/v1/ota/status', 'status', 'Device reports download/install progress and outcome'),

  // FireFly / esp32FOTA manifest (sequential updates).
  device('GET', '/ota/{class}/{productHex}', 'check', 'esp32FOTA manifest of the next release after current_version'),
  // Arduino HTTPUpdate: 304 nothing newer, 302 to the signed URL.
  device('GET', '/api/v1/ota/arduino/{productId}', 'check', 'Arduino HTTPUpdate check (x-ESP32-* headers)'),
  // Cheeko toy OTA.
  device('POST', '/toy/ota', 'check', 'Cheeko boot check and registration'),
  device('GET', '/toy/ota', 'check', 'Cheeko OTA status and latest version per board'),
  device('POST', '/toy/ota/activate', 'activation', 'Cheeko activation check'),
  // IoTaaP.
  device('GET', '/v1/ota/device/latest/{deviceId}', 'check', 'IoTaaP latest firmware version of a device'),
  device('GET', '/v1/ota/device/download/{deviceIdAndToken}', 'check', 'IoTaaP download: 302 to the signed URL'),
  // Bota.
  device('POST', '/api/v1/devices/{deviceId}/heartbeat', 'status', 'Bota heartbeat; carries the OTA manifest of a pending assignment'),
  device('GET', '/api/v1/products/{productId}/releases/latest', 'check', 'Bota app: is a newer release out for this model (bin + ufw)'),

  // Operator API.
  admin('PUT', P, 'Create or update a product'),
  admin('GET', P, 'Get a product'),
  admin('GET', `${P}/firmware`, 'List firmware builds (?state=&version=&limit=&cursor=)'),
  admin('GET', `${P}/firmware/{build}`, 'Get one firmware build'),
  admin('POST', `${P}/firmware/{build}/release`, 'Release a DRAFT build'),
  admin('POST', `${P}/firmware/{build}/revoke`, 'Revoke a build (pauses deployments that offer it)'),
  admin('POST', `${P}/deployments`, 'Create a deployment'),
  admin('GET', `${P}/deployments`, 'List deployments (?state=)'),
  admin('GET', `${P}/deployments/{deploymentId}`, 'Get a deployment with its counters'),
  admin('POST', `${P}/deployments/{deploymentId}/cancel`, 'Cancel a deployment (offers nothing from now on)'),
  admin('POST', `${P}/deployments/{deploymentId}/complete`, 'Mark a rollout finished (offers nothing more)'),
  admin('POST', `${P}/deployments/{deploymentId}/promote`, 'Raise the percentage of a deployment'),
  admin('POST', `${P}/deployments/{deploymentId}/pause`, 'Pause a deployment'),
  admin('POST', `${P}/deployments/{deploymentId}/resume`, 'Resume a paused deployment'),
  admin('POST', `${P}/key`, 'Rotate the product key (shown once; the previous key stays valid until retired)'),
  admin('DELETE', `${P}/key/previous`, 'Retire the previous product key'),
  admin('GET', `${P}/devices`, 'List devices (?prefix=&limit=&cursor=)'),
  admin('GET', `${P}/devices/{deviceId}`, 'Get a device with its recent status history'),
  admin('PATCH', `${P}/devices/{deviceId}`, 'Set active, channel, groups, tags'),
  admin('POST', `${P}/devices/{deviceId}/token`, 'Issue a device token (shown once)'),
  admin('DELETE', `${P}/devices/{deviceId}/failed-builds`, "Clear a device's failed builds (?build= for one), so they may be offered again"),
  admin('PUT', `${P}/devices/{deviceId}/assignment`, 'Assign a released build to one device (409 for a failed build without retry, or a downgrade without allow_downgrade)'),
  admin('GET', `${P}/devices/{deviceId}/assignment`, "Get a device's assignment"),
  admin('DELETE', `${P}/devices/{deviceId}/assignment`, 'Cancel an open assignment'),

  // IoTaaP operator API.
  admin('GET', '/v1/ota/device', 'IoTaaP: latest OTA per device (search, offset, limit, draw, order_dir)'),
  admin('POST', '/v1/ota/device', 'IoTaaP: upload firmware for one device (multipart)', 'upload'),
];

/** `"POST /api/v1/ota/check"` — the API Gateway HTTP API route key (also `event.routeKey`). */
export const routeKey = (r: Pick<Route, 'method' | 'path'>): string => `${r.method} ${r.path}`;

export interface RouteMatch {
  readonly route: Route;
  readonly pathParameters: Record<string, string>;
}

const compiled = new Map<Route, { regex: RegExp; names: string[] }>();
function compile(route: Route) {
  let c = compiled.get(route);
  if (!c) {
    const names: string[] = [];
    const source = route.path
      .split('/')
      .map((seg) => {
        const m = /^\{([A-Za-z0-9_]+)\}$/.exec(seg);
        if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(m[1]);
        return '([^/]+)';
      })
      .join('/');
    c = { regex: new RegExp(`^${source}$`), names };
    compiled.set(route, c);
  }
  return c;
}

/**
 * Finds the route for a request the way API Gateway does: one trailing slash is ignored, literal
 * segments win over `{param}` segments, path parameters are URL-decoded.
 */
export function matchRoute(method: string, rawPath: string, routes: readonly Route[] = ROUTES): RouteMatch | undefined {
  const path = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
  const candidates: RouteMatch[] = [];
  for (const route of routes) {
    if (route.method !== method.toUpperCase()) continue;
    const { regex, names } = compile(route);
    const m = regex.exec(path);
    if (!m) continue;
    const pathParameters: Record<string, string> = {};
    try {
      names.forEach((n, i) => (pathParameters[n] = decodeURIComponent(m[i + 1])));
    } catch {
      continue; // undecodable %-sequence: API Gateway would not match either
    }
    candidates.push({ route, pathParameters });
  }
  // Most literal segments first (API Gateway prefers the most specific route).
  candidates.sort((a, b) => Object.keys(a.pathParameters).length - Object.keys(b.pathParameters).length);
  return candidates[0];
}

/** Is there a route for this path under any method? (405 vs 404 locally.) */
export const pathExists = (rawPath: string, routes: readonly Route[] = ROUTES): boolean =>
  (['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const).some((m) => matchRoute(m, rawPath, routes) !== undefined);
