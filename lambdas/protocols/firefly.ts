/**
 * FireFly / esp32FOTA: `GET /ota/{class}/{product_hex}?current_version=`.
 * - the oldest release newer than current_version that the requester may have (sequential);
 * - already on the latest: 200 with that version's own manifest (esp32FOTA sees "no update");
 * - current version REVOKED and nothing newer: 409; missing current_version: 400;
 * - unknown product, or a failing credential: 404.
 * With `?id=` the device is tracked and placed in rollout cohorts; without it only deployments at
 * 100 % apply (an anonymous requester has no cohort).
 */
import { fireflyAlias } from '../core/admin-api';
import { normalizeDeviceId } from '../core/device-id';
import { DomainError } from '../core/errors';
import { DEFAULT_CHANNEL, type OfferedBuild, type Product } from '../core/model';
import { esp32FotaDeviceId, fireflyManifest, FireflyQuerySchema, PRODUCT_HEX_PATTERN, type FireflyQuery } from '../core/protocols/firefly';
import { authorizeDevice, presentedSecret } from '../core/security';
import { selectOffer } from '../core/select';
import { signOffer } from '../shared/check-service';
import { json, validate, type HttpEvent, type HttpResult } from '../shared/http';
import type { ProtocolDeps, ProtocolRoutes } from './types';

const notFound = (code: string, message: string) => json(404, { error: { code, message } });

export function fireflyRoutes(deps: ProtocolDeps): ProtocolRoutes {
  const manifestOf = async (fw: OfferedBuild) => {
    const signed = await signOffer(deps.signer, fw);
    return json(200, fireflyManifest(fw.firmwareType, fw.version, { app: signed.appUrl, ...(signed.uiUrl ? { ui: signed.uiUrl } : {}) }));
  };

  /** The next build for this requester, or undefined. Undefined + `denied` when the credential fails. */
  async function nextBuild(product: Product, q: FireflyQuery, credential: string | undefined): Promise<{ fw?: OfferedBuild; denied?: boolean }> {
    if (q.id) {
      const r = await deps.checks.check(
        product.productId,
        { deviceId: normalizeDeviceId(esp32FotaDeviceId(q.id)), version: q.current_version, hw: {}, channel: q.channel },
        { credential, order: 'next' },
      );
      if (r.unauthorized) return { denied: true };
      return r.decision.status === 'update_available' ? { fw: r.decision.offer.firmware } : {};
    }
    if (!authorizeDevice(product, undefined, credential)) return { denied: true };
    const full = (await deps.config.allDeployments(product.productId)).filter((d) => d.percentage >= 100);
    const s = selectOffer({
      device: { deviceId: '', channel: q.channel ?? DEFAULT_CHANNEL, currentVersion: q.current_version, hw: {}, failedBuilds: [] },
      productChip: product.chip,
      deployments: full,
      order: 'next',
    });
    return s.kind === 'offer' ? { fw: s.deployment.firmware } : {};
  }

  return {
    'GET /ota/{class}/{productHex}': {
      async handle(event: HttpEvent): Promise<HttpResult> {
        const { class: productClass = '', productHex = '' } = event.pathParameters ?? {};
        const q = event.queryStringParameters ?? {};
        if (!q.current_version) throw new DomainError('invalid', 'missing_current_version', 'current_version query parameter is required');
        const query = validate(FireflyQuerySchema, q);
        const product = PRODUCT_HEX_PATTERN.test(productHex) ? await deps.config.productByAlias(fireflyAlias(productClass, productHex)) : undefined;
        if (!product) return notFound('unknown_product', `No product ${productClass}/${productHex}`);

        const next = await nextBuild(product, query, presentedSecret(event.headers ?? {}, query.token));
        if (next.denied) return notFound('unknown_device', 'Unknown device or invalid credential');
        if (next.fw) return manifestOf(next.fw);

        const current = await deps.config.firmwareByVersion(product.productId, query.current_version);
        if (current?.state === 'REVOKED') {
          return json(409, { error: { code: 'current_version_revoked', message: `${query.current_version} is revoked and no newer release is available` } });
        }
        if (current?.state === 'RELEASED') return manifestOf(current);
        // A version we never released (a dev build): same version, no URLs — esp32FOTA sees no update.
        return json(200, fireflyManifest(product.firmwareType ?? '', query.current_version));
      },
    },
  };
}
