/**
 * Operator actions on devices: read, list and patch them, issue a device token, assign a build
 * (an operator's explicit intent, guarded against builds the device failed and downgrades), read
 * or cancel the assignment, clear failed builds, and IoTaaP's operator list of OTAs. Device ids
 * come as the operator wrote them (MACs in any spelling) and are parsed here. Returns domain
 * objects and throws DomainError; the admin handler presents them.
 */
import { newAssignmentId } from '../core/deployment';
import { DEVICE_ID_PATTERN, normalizeDeviceId } from '../core/device-id';
import { DomainError } from '../core/errors';
import { DEFAULT_CHANNEL, offeredBuild, type Assignment, type Device, type Product } from '../core/model';
import { hashSecret, newDeviceToken } from '../core/security';
import { compareVersions, isValidVersion } from '../core/version';
import type { IotaapOta } from '../protocols/iotaap/wire';
import { requireFirmware } from './firmware-service';
import type { Logger } from './logger';
import { requireProduct } from './product-service';
import type { Page } from './store/ddb';
import type { DevicePatch } from './store/device-store';
import type { CatalogStorePort, DeviceStorePort } from './store/ports';

/** What an operator may change on a device. */
export type DeviceSettings = Pick<DevicePatch, 'active' | 'autoUpdate' | 'channel' | 'groups' | 'tags'>;

export interface AssignRequest {
  readonly build: number;
  /** Replace an open assignment of another build. */
  readonly replace?: boolean;
  /** Assign a build the device failed or rolled back from: clears it (recorded in its history). */
  readonly retry?: boolean;
  /** Assign a build older than the one the device runs. */
  readonly allowDowngrade?: boolean;
}

export interface Assigned {
  /** `unchanged`: the device already had this build open; nothing was written. */
  readonly outcome: 'assigned' | 'unchanged';
  readonly assignment: Assignment;
}

/** A valid device id, normalised (MACs as `AA:BB:CC:DD:EE:FF`); 400 invalid_device_id otherwise. */
export function parseDeviceId(raw: string | undefined): string {
  if (!DEVICE_ID_PATTERN.test(raw ?? '')) throw new DomainError('invalid', 'invalid_device_id', 'Device id is not valid');
  return normalizeDeviceId(raw!);
}

/**
 * An assignment is an operator's explicit intent, but two things it must say out loud: a build the
 * device already failed or rolled back from (`retry`: clear it and try again, recorded in the
 * device's history), and a build older than the one it runs (`allowDowngrade`).
 */
export function guardAssignment(
  device: Device,
  build: number,
  version: string,
  req: Pick<AssignRequest, 'retry' | 'allowDowngrade'>,
): { clearFailed: boolean } {
  const failed = device.failedBuilds.includes(build);
  if (failed && !req.retry) {
    const last = [...(device.history ?? [])].reverse().find((e) => e.build === build && (e.status === 'failed' || e.status === 'rolled_back'));
    const why = last ? `${last.status}${last.inferred ? ` (inferred: ${last.reason})` : ''}${last.message ? `: ${last.message}` : ''}` : 'failed';
    throw new DomainError(
      'conflict',
      'build_failed_before',
      `Device ${device.deviceId} ${why} with build ${build}; send "retry": true to clear it and assign it again`,
    );
  }
  const running = device.currentVersion;
  if (!req.allowDowngrade && running !== undefined && isValidVersion(running) && isValidVersion(version) && compareVersions(version, running) < 0) {
    throw new DomainError(
      'conflict',
      'downgrade',
      `Build ${build} (${version}) is older than what device ${device.deviceId} runs (${running}); send "allow_downgrade": true to assign it`,
    );
  }
  return { clearFailed: failed };
}

/** A device record for an operator action on a device that has not checked in yet. */
export const newDevice = (product: Product, deviceId: string, now: string): Device => ({
  productId: product.productId,
  deviceId,
  channel: DEFAULT_CHANNEL,
  active: true,
  firstSeen: now,
  lastSeen: now,
  failedBuilds: [],
  ...(product.protocols?.iotaap ? { globalId: deviceId } : {}),
});

export interface DeviceAdminServiceDeps {
  readonly catalog: CatalogStorePort;
  readonly devices: DeviceStorePort;
  readonly logger: Pick<Logger, 'info'>;
  readonly now?: () => Date;
}

export class DeviceAdminService {
  constructor(private readonly deps: DeviceAdminServiceDeps) {}

  get(productId: string, rawDeviceId: string | undefined): Promise<Device> {
    return this.require(productId, parseDeviceId(rawDeviceId));
  }

  /** A product's devices ordered by id; 404 for an unknown product. */
  async list(productId: string, opts: { readonly limit?: number; readonly cursor?: string; readonly prefix?: string } = {}): Promise<Page<Device>> {
    await requireProduct(this.deps.catalog, productId);
    return this.deps.devices.listByProduct(productId, { limit: opts.limit, cursor: opts.cursor, prefix: opts.prefix });
  }

  /** Applies the settings given (absent ones are left alone); 404 for an unknown device. */
  async patch(productId: string, rawDeviceId: string | undefined, settings: DeviceSettings): Promise<Device> {
    const patch = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) as DevicePatch;
    const updated = await this.deps.devices.update(productId, parseDeviceId(rawDeviceId), patch);
    if (!updated) throw new DomainError('not_found', 'device_not_found', `Device ${rawDeviceId} of ${productId} does not exist`);
    return updated;
  }

  /** A new device token (shown once; only its hash is stored); registers the device when it is new. */
  async issueToken(productId: string, rawDeviceId: string | undefined): Promise<{ deviceId: string; token: string }> {
    const product = await requireProduct(this.deps.catalog, productId);
    const deviceId = parseDeviceId(rawDeviceId);
    const token = newDeviceToken();
    await this.deps.devices.setToken(newDevice(product, deviceId, this.now().toISOString()), hashSecret(token));
    this.deps.logger.info('device token issued', { productId, deviceId });
    return { deviceId, token };
  }

  /**
   * Assigns a released build to a device (registering it when it is new). 409s: firmware_not_released,
   * build_failed_before (unless `retry`, which clears it), downgrade (unless `allowDowngrade`),
   * assignment_pending (another build is open, unless `replace`).
   */
  async assign(productId: string, rawDeviceId: string | undefined, req: AssignRequest): Promise<Assigned> {
    const { catalog, devices, logger } = this.deps;
    const product = await requireProduct(catalog, productId);
    const deviceId = parseDeviceId(rawDeviceId);
    const fw = await requireFirmware(catalog, productId, req.build);
    if (fw.state !== 'RELEASED') throw new DomainError('conflict', 'firmware_not_released', `Build ${fw.build} is ${fw.state}; release it first`);
    const at = this.now();
    const now = at.toISOString();
    const known = await devices.get(productId, deviceId, true);
    const guard = known ? guardAssignment(known, fw.build, fw.version, req) : { clearFailed: false };
    const assignment: Assignment = {
      assignmentId: newAssignmentId(at.getTime()),
      build: fw.build,
      state: 'pending',
      firmware: offeredBuild(fw),
      assignedAt: now,
      updatedAt: now,
    };
    const replace = req.replace ?? false;
    let outcome = await devices.assign(productId, deviceId, assignment, replace);
    if (outcome === 'unknown_device') {
      await devices.register(newDevice(product, deviceId, now));
      outcome = await devices.assign(productId, deviceId, assignment, replace);
    }
    if (outcome === 'conflict') {
      throw new DomainError('conflict', 'assignment_pending', 'The device already has an open assignment; send "replace": true to replace it');
    }
    if (guard.clearFailed) await devices.clearFailedBuilds(productId, deviceId, [fw.build], now, 'retry requested with an assignment');
    const device = await this.require(productId, deviceId);
    logger.info('build assigned', { productId, deviceId, build: fw.build, outcome });
    return { outcome: outcome === 'assigned' ? 'assigned' : 'unchanged', assignment: device.assignment! };
  }

  /** The device's assignment (open or finished); 404 assignment_not_found when it has none. */
  async getAssignment(productId: string, rawDeviceId: string | undefined): Promise<Assignment> {
    const device = await this.require(productId, parseDeviceId(rawDeviceId));
    if (!device.assignment) throw new DomainError('not_found', 'assignment_not_found', 'The device has no assignment');
    return device.assignment;
  }

  /** Removes the open assignment; 404 assignment_not_found when there is none. */
  async cancelAssignment(productId: string, rawDeviceId: string | undefined): Promise<void> {
    if (!(await this.deps.devices.cancelAssignment(productId, parseDeviceId(rawDeviceId)))) {
      throw new DomainError('not_found', 'assignment_not_found', 'The device has no open assignment');
    }
  }

  /** Clears one failed build (`build`) or all of them, each recorded in the device's history. */
  async clearFailedBuilds(productId: string, rawDeviceId: string | undefined, build?: number): Promise<Device> {
    const { devices, logger } = this.deps;
    const deviceId = parseDeviceId(rawDeviceId);
    const device = await this.require(productId, deviceId);
    const builds = build === undefined ? device.failedBuilds : device.failedBuilds.filter((b) => b === build);
    const updated = await devices.clearFailedBuilds(productId, deviceId, builds, this.now().toISOString(), 'cleared by an operator');
    if (!updated) throw new DomainError('not_found', 'device_not_found', `Device ${deviceId} of ${productId} does not exist`);
    logger.info('failed builds cleared', { productId, deviceId, builds });
    return updated;
  }

  /** IoTaaP operator list: the latest OTA (assignment) per device of every IoTaaP-bound product. */
  async iotaapOtas(): Promise<IotaapOta[]> {
    const { catalog, devices } = this.deps;
    const out: IotaapOta[] = [];
    for (const { alias, productId } of await catalog.listAliases('iotaap#')) {
      if (alias !== `iotaap#${productId}`) continue;
      let cursor: string | undefined;
      do {
        const page = await devices.listByProduct(productId, { limit: 200, cursor });
        for (const d of page.items) {
          const a = d.assignment;
          if (!a) continue;
          const app = a.firmware.files.find((f) => f.role === 'app');
          out.push({
            _id: a.assignmentId,
            device: d.deviceId,
            __v: 0,
            last_updated: a.assignedAt,
            owner: productId,
            path: app?.key ?? '',
            version: a.firmware.version,
          });
        }
        cursor = page.cursor;
      } while (cursor);
    }
    return out;
  }

  private async require(productId: string, deviceId: string): Promise<Device> {
    const d = await this.deps.devices.get(productId, deviceId, true);
    if (!d) throw new DomainError('not_found', 'device_not_found', `Device ${deviceId} of ${productId} does not exist`);
    return d;
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }
}
