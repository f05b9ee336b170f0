/**
 * The route table, derived from the operation declarations (lambdas/contract/): the CDK device and
 * admin API constructs create one API Gateway route per entry and the local gateway matches
 * requests against the same entries, so cloud and laptop cannot drift. Pure data.
 *
 * Paths never end in `/`: API Gateway rejects such route keys and routes `/x/` to `/x`; the
 * local gateway strips one trailing slash the same way, so devices may call either form.
 */
import { OPERATIONS, type Operation } from './contract';

export { FUNCTION_NAMES, routeKey, type FunctionName, type HttpMethod, type RouteAuth } from './contract/operation';

export type Route = Pick<Operation, 'method' | 'path' | 'fn' | 'auth' | 'summary'>;

export const ROUTES: readonly Route[] = OPERATIONS;

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
