/** IoTaaP pure shaping: documented bodies, the upload size limit, the operator list query and paging. */
import { isDomainError } from '../../../lambdas/core/errors';
import { IOTAAP_MAX_FIRMWARE_BYTES, noSuchDevice, pageIotaapOtas, parseIotaapListQuery, type IotaapOta } from '../../../lambdas/protocols/iotaap/wire';

const ota = (device: string, version: string, last_updated: string, path = `p/1/app.bin`): IotaapOta => ({
  _id: `a-${device}`,
  device,
  __v: 0,
  last_updated,
  owner: 'p',
  path,
  version,
});

describe('IoTaaP bodies and limits', () => {
  it('"No such device" carries the documented { message, error }', () => {
    expect(noSuchDevice('why')).toEqual({ message: 'No such device', error: 'why' });
  });

  it('the firmware limit is 4 MiB, whose base64 still fits a 6 MB synchronous Lambda event', () => {
    expect(IOTAAP_MAX_FIRMWARE_BYTES).toBe(4 * 1024 * 1024);
    const base64 = Math.ceil(IOTAAP_MAX_FIRMWARE_BYTES / 3) * 4;
    expect(base64 + 64 * 1024).toBeLessThan(6 * 1024 * 1024); // room for the multipart fields and the event envelope
  });
});

describe('parseIotaapListQuery', () => {
  const invalid = (q: Record<string, string>) => {
    try {
      parseIotaapListQuery(q);
    } catch (e) {
      if (isDomainError(e)) return e;
      throw e;
    }
    throw new Error('expected a DomainError');
  };

  it('defaults: offset 0, limit 10, newest first, no search, no draw', () => {
    expect(parseIotaapListQuery({})).toEqual({ offset: 0, limit: 10, orderDir: 'desc' });
    expect(parseIotaapListQuery({ offset: '', limit: '', search_value: '   ' })).toEqual({ offset: 0, limit: 10, orderDir: 'desc' });
  });

  it('reads every documented parameter', () => {
    expect(parseIotaapListQuery({ search_value: ' 5e1b ', offset: '20', limit: '50', draw: 'warp', order_dir: 'ASC' })).toEqual({
      searchValue: '5e1b',
      offset: 20,
      limit: 50,
      draw: 'warp',
      orderDir: 'asc',
    });
  });

  it('an empty draw is echoed as given', () => {
    expect(parseIotaapListQuery({ draw: '' }).draw).toBe('');
  });

  it('a bad offset is a 400-kind error naming offset', () => {
    for (const offset of ['-1', 'abc', '1.5', '1e3', '9999999999', '1000001']) {
      const e = invalid({ offset });
      expect(e.kind).toBe('invalid');
      expect(e.message).toMatch(/^offset /);
    }
    expect(parseIotaapListQuery({ offset: '1000000' }).offset).toBe(1_000_000);
  });

  it('a bad limit is a 400-kind error naming limit (at most 100)', () => {
    for (const limit of ['-5', 'ten', '101']) expect(invalid({ limit }).message).toMatch(/^limit /);
    expect(parseIotaapListQuery({ limit: '100' }).limit).toBe(100);
    expect(parseIotaapListQuery({ limit: '0' }).limit).toBe(0);
  });

  it('order_dir must be asc or desc', () => {
    expect(invalid({ order_dir: 'up' }).message).toMatch(/order_dir/);
    expect(parseIotaapListQuery({ order_dir: 'Desc' }).orderDir).toBe('desc');
  });

  it('an overlong search_value is refused and draw is bounded', () => {
    expect(invalid({ search_value: 'x'.repeat(129) }).message).toMatch(/search_value/);
    expect(parseIotaapListQuery({ search_value: 'x'.repeat(128) }).searchValue).toHaveLength(128);
    expect(parseIotaapListQuery({ draw: 'd'.repeat(500) }).draw).toHaveLength(64);
  });
});

describe('pageIotaapOtas', () => {
  const all = [
    ota('5e1b000000000000000000aa', '1.2.7', '2020-01-21T22:59:29.940Z', 'prod/3/app.bin'),
    ota('5e1b000000000000000000bb', '1.3.0', '2020-01-22T10:00:00.000Z', 'prod/4/app.bin'),
    ota('5e1b000000000000000000cc', '1.2.7', '2020-01-20T08:00:00.000Z', 'other/3/app.bin'),
    ota('5e1b000000000000000000dd', '2.0.0', '2020-01-22T10:00:00.000Z', 'prod/5/app.bin'),
  ];
  const q = (over: Partial<Parameters<typeof pageIotaapOtas>[1]> = {}) => ({ offset: 0, limit: 10, orderDir: 'desc' as const, ...over });
  const devices = (r: ReturnType<typeof pageIotaapOtas>) => r.otas.map((o) => o.device.slice(-2));

  it('answers { otas, recordsTotal, recordsFiltered, draw } with the draw echoed', () => {
    const r = pageIotaapOtas(all, q({ draw: 'warp' }));
    expect(Object.keys(r).sort()).toEqual(['draw', 'otas', 'recordsFiltered', 'recordsTotal']);
    expect(r).toMatchObject({ recordsTotal: 4, recordsFiltered: 4, draw: 'warp' });
    expect(pageIotaapOtas(all, q()).draw).toBe('');
  });

  it('orders by last_updated, newest first by default, ties by device id', () => {
    expect(devices(pageIotaapOtas(all, q()))).toEqual(['bb', 'dd', 'aa', 'cc']);
  });

  it('order_dir asc is oldest first', () => {
    expect(devices(pageIotaapOtas(all, q({ orderDir: 'asc' })))).toEqual(['cc', 'aa', 'bb', 'dd']);
  });

  it('search_value matches the device id, the version or the path, case-insensitively', () => {
    expect(devices(pageIotaapOtas(all, q({ searchValue: '00BB' })))).toEqual(['bb']);
    expect(devices(pageIotaapOtas(all, q({ searchValue: '1.2.7' })))).toEqual(['aa', 'cc']);
    expect(devices(pageIotaapOtas(all, q({ searchValue: 'other/' })))).toEqual(['cc']);
    const r = pageIotaapOtas(all, q({ searchValue: 'zzz' }));
    expect(r).toMatchObject({ otas: [], recordsTotal: 4, recordsFiltered: 0 });
  });

  it('recordsFiltered counts every match, not just the page', () => {
    const r = pageIotaapOtas(all, q({ searchValue: '5e1b', limit: 1 }));
    expect(r.otas).toHaveLength(1);
    expect(r).toMatchObject({ recordsTotal: 4, recordsFiltered: 4 });
  });

  it('offset skips and limit caps', () => {
    expect(devices(pageIotaapOtas(all, q({ offset: 1, limit: 2 })))).toEqual(['dd', 'aa']);
    expect(devices(pageIotaapOtas(all, q({ offset: 3, limit: 2 })))).toEqual(['cc']);
    expect(pageIotaapOtas(all, q({ offset: 10 })).otas).toEqual([]);
    expect(pageIotaapOtas(all, q({ limit: 0 })).otas).toEqual([]);
  });

  it('does not reorder the caller’s array', () => {
    const copy = [...all];
    pageIotaapOtas(all, q({ orderDir: 'asc' }));
    expect(all).toEqual(copy);
  });
});
