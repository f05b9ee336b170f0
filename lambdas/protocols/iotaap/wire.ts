/**
 * IoTaaP: device routes `GET /v1/ota/device/latest/{id}` and `/download/{id}{token}`, and the
 * operator routes (list of latest OTA per device; multipart firmware upload). Bodies as the seed
 * documents them: `{ message, error? }`.
 */
import { DomainError } from '../../core/errors';

export const noSuchDevice = (error: string) => ({ message: 'No such device', error });

/** API Gateway caps payloads at 10 MB and Lambda's synchronous event at 6 MB; base64 (binary bodies) costs 4/3. */
export const IOTAAP_MAX_FIRMWARE_BYTES = 4 * 1024 * 1024;

export interface IotaapListQuery {
  readonly searchValue?: string;
  readonly offset: number;
  readonly limit: number;
  readonly draw?: string;
  readonly orderDir: 'asc' | 'desc';
}

/** Validates the DataTables-style list query; throws a DomainError naming the field. */
export function parseIotaapListQuery(q: Readonly<Record<string, string | undefined>>): IotaapListQuery {
  const int = (name: string, fallback: number, max: number) => {
    const v = q[name];
    if (v === undefined || v === '') return fallback;
    if (!/^\d{1,9}$/.test(v) || Number(v) > max) throw new DomainError('invalid', 'invalid_query', `${name} must be a number between 0 and ${max}`);
    return Number(v);
  };
  const dir = (q.order_dir ?? 'desc').toLowerCase();
  if (dir !== 'asc' && dir !== 'desc') throw new DomainError('invalid', 'invalid_query', 'order_dir must be asc or desc');
  const searchValue = q.search_value?.trim();
  if (searchValue && searchValue.length > 128) throw new DomainError('invalid', 'invalid_query', 'search_value is too long');
  return {
    ...(searchValue ? { searchValue } : {}),
    offset: int('offset', 0, 1_000_000),
    limit: int('limit', 10, 100),
    ...(q.draw !== undefined ? { draw: q.draw.slice(0, 64) } : {}),
    orderDir: dir,
  };
}

export interface IotaapOta {
  readonly _id: string;
  readonly device: string;
  readonly __v: 0;
  readonly last_updated: string;
  readonly owner: string;
  readonly path: string;
  readonly version: string;
}

/**
 * Filters (device id, version or path contains the search value), orders by last_updated, pages.
 * The seed calls search_value the "filtering path parameter": IoTaaP's path embeds the device id,
 * ours names the product and build, so all three are searched.
 */
export function pageIotaapOtas(all: readonly IotaapOta[], q: IotaapListQuery) {
  const needle = q.searchValue?.toLowerCase();
  const matches = (o: IotaapOta) => [o.device, o.version, o.path].some((v) => v.toLowerCase().includes(needle!));
  const filtered = needle ? all.filter(matches) : [...all];
  filtered.sort((a, b) => (q.orderDir === 'asc' ? 1 : -1) * a.last_updated.localeCompare(b.last_updated) || a.device.localeCompare(b.device));
  return { otas: filtered.slice(q.offset, q.offset + q.limit), recordsTotal: all.length, recordsFiltered: filtered.length, draw: q.draw ?? '' };
}
