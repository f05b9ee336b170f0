import { matchRoute, pathExists, routeKey, ROUTES } from '../lambdas/routes';

describe('route table', () => {
  it('has unique route keys and no trailing slashes', () => {
    const keys = ROUTES.map(routeKey);
    expect(new Set(keys).size).toBe(keys.length);
    for (const r of ROUTES) expect(r.path.endsWith('/')).toBe(false);
  });

  it('matches device routes with and without a trailing slash', () => {
    expect(matchRoute('POST', '/api/v1/ota/check')?.route.fn).toBe('check');
    expect(matchRoute('POST', '/api/v1/ota/check/')?.route.fn).toBe('check');
    expect(matchRoute('POST', '/api/v1/ota/status/')?.route.fn).toBe('status');
  });

  it('extracts and decodes path parameters', () => {
    const m = matchRoute('GET', '/admin/v1/products/ctrl/deployments/dep%5F1');
    expect(m?.route.path).toBe('/admin/v1/products/{productId}/deployments/{deploymentId}');
    expect(m?.pathParameters).toEqual({ productId: 'ctrl', deploymentId: 'dep_1' });
  });

  it('prefers the literal route over a parameter route', () => {
    const m = matchRoute('GET', '/admin/v1/products/ctrl/firmware');
    expect(m?.route.path).toBe('/admin/v1/products/{productId}/firmware');
  });

  it('does not match a wrong method or an unknown path', () => {
    expect(matchRoute('GET', '/api/v1/ota/check')).toBeUndefined();
    expect(pathExists('/api/v1/ota/check')).toBe(true);
    expect(pathExists('/nope')).toBe(false);
    expect(matchRoute('GET', '/admin/v1/products/%E0%A4%A')).toBeUndefined();
  });

  it('keeps operator routes IAM-authorised and device routes open', () => {
    // The operator API, and IoTaaP's operator routes (GET/POST /v1/ota/device, not its device routes below it).
    const operator = (r: (typeof ROUTES)[number]) => r.path.startsWith('/admin/') || r.path === '/v1/ota/device';
    for (const r of ROUTES) expect(r.auth).toBe(operator(r) ? 'iam' : 'none');
  });
});
