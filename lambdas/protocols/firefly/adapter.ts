/**
 * FireFly / esp32FOTA: `GET /ota/{class}/{product_hex}?current_version=`.
 * - the oldest release newer than current_version that the requester may have (sequential);
 * - only releases esp32FOTA orders strictly above current_version (its own parse: see
 *   `esp32FotaVersion`) are candidates, so a version it reads as 0.0.0 never blocks a device;
 * - already on the latest: 200 with that version's own manifest (esp32FOTA sees "no update");
 * - on a version newer than every release (a dev build): a complete manifest with version =
 *   current_version and the latest release's URLs (the library parses it and does not update);
 *   no release at all: 404 (the library treats any non-200 as "no update");
 * - current version REVOKED and nothing newer: 409; missing current_version: 400;
 * - unknown product, or a failing credential: 404.
 * With `?id=` the device is tracked and placed in rollout cohorts; without it, or with an id the
 * product does not know and will not self-register (open/product_key modes), only deployments at
 * 100 % apply (an anonymous requester has no cohort). Every answer closes its connection: the
 * library's HTTPClient would otherwise reuse the socket for the firmware GET when the CDN has the
 * same host name on another port (`setReuse(true)` in `esp32FOTA::setupHTTP`).
 */
import { normalizeDeviceId } from '../../core/device-id';
import { DomainError } from '../../core/errors';
import { DEFAULT_CHANNEL, type Deployment, type OfferedBuild, type Product } from '../../core/model';
import { authorizeDevice, presentedSecret } from '../../core/security';
import { selectOffer } from '../../core/select';
import { compareVersions } from '../../core/version';
import { signOffer } from '../../shared/check-service';
import { json, validate } from '../../shared/http';
import type { Implementations } from '../../shared/operations';
import type { ProtocolDeps } from '../types';
import type { fireflyManifest as fireflyManifestOp } from './contract';
import { fireflyAlias } from './index';
import { esp32FotaDeviceId, esp32FotaIsNewer, fireflyManifest, FireflyQuerySchema, PRODUCT_HEX_PATTERN, type FireflyQuery } from './wire';

const CLOSE = { connection: 'close' };
const reply = (status: number, body: unknown) => json(status, body, CLOSE);
const notFound = (code: string, message: string) => reply(404, { error: { code, message } });

export function fireflyRoutes(deps: ProtocolDeps): Implementations<typeof fireflyManifestOp> {
  const manifestOf = async (fw: OfferedBuild) => {
    const signed = await signOffer(deps.signer, fw);
    return reply(200, fireflyManifest(fw.firmwareType, fw.version, { app: signed.appUrl, ...(signed.uiUrl ? { ui: signed.uiUrl } : {}) }));
  };

  /** The 100 % deployments an anonymous requester in this channel may have. */
  const openToAll = async (product: Product, channel: string | undefined): Promise<Deployment[]> =>
    (await deps.config.allDeployments(product.productId)).filter(
      (d) => d.percentage >= 100 && d.state === 'active' && d.channel === (channel ?? DEFAULT_CHANNEL),
    );

  /** The next build for this requester, or undefined. Undefined + `denied` when the credential fails. */
  async function nextBuild(product: Product, q: FireflyQuery, credential: string | undefined): Promise<{ fw?: OfferedBuild; denied?: boolean }> {
    const accepts = (d: Deployment) => esp32FotaIsNewer(d.firmware.version, q.current_version);
    if (q.id) {
      const r = await deps.checks.check(
        product.productId,
        { deviceId: normalizeDeviceId(esp32FotaDeviceId(q.id)), version: q.current_version, hw: {}, channel: q.channel },
        { credential, order: 'next', accepts, takesEsp32FotaSigned: true },
      );
      if (r.unauthorized) return { denied: true };
      // Not registered and the product does not self-register: served as the anonymous device it
      // would be without `useDeviceId(true)` (device_token mode never gets here: no token, unauthorized).
      if (r.decision.status !== 'unknown_device') return r.decision.status === 'update_available' ? { fw: r.decision.offer.firmware } : {};
    }
    if (!authorizeDevice(product, undefined, credential)) return { denied: true };
    const full = await openToAll(product, q.channel);
    const s = selectOffer({
      device: { deviceId: '', channel: q.channel ?? DEFAULT_CHANNEL, currentVersion: q.current_version, hw: {}, failedBuilds: [] },
      productChip: product.chip,
      deployments: full,
      order: 'next',
      accepts,
    });
    return s.kind === 'offer' ? { fw: s.deployment.firmware } : {};
  }

  return {
    fireflyManifest: {
      async handle({ event }) {
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
          return reply(409, { error: { code: 'current_version_revoked', message: `${query.current_version} is revoked and no newer release is available` } });
        }
        if (current?.state === 'RELEASED') return manifestOf(current);
        // A version we never released (a dev build): its own version with the latest release's URLs.
        // esp32FOTA needs url or host/port/bin to accept the manifest at all (else "JSON manifest was
        // missing one of the required keys"), then does not update because the version is not newer.
        const latest = (await openToAll(product, query.channel)).map((d) => d.firmware).sort((a, b) => compareVersions(b.version, a.version))[0];
        if (!latest) return notFound('no_release', `No release of ${productClass}/${productHex} is available`);
        const signed = await signOffer(deps.signer, latest);
        return reply(200, fireflyManifest(latest.firmwareType, query.current_version, { app: signed.appUrl, ...(signed.uiUrl ? { ui: signed.uiUrl } : {}) }));
      },
    },
  };
}
