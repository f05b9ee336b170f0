import fc from 'fast-check';
import { DEVICE_ID_PATTERN, isMacAddress, normalizeDeviceId } from '../../lambdas/core/device-id';
import { CheckRequestSchema, StatusRequestSchema } from '../../lambdas/protocols/native/wire';

describe('normalizeDeviceId', () => {
  it.each([
    ['aa:bb:cc:dd:ee:ff', 'AA:BB:CC:DD:EE:FF'],
    ['AA:BB:CC:DD:EE:FF', 'AA:BB:CC:DD:EE:FF'],
    ['aa-bb-cc-dd-ee-ff', 'AA:BB:CC:DD:EE:FF'],
    ['AA-BB-CC-DD-EE-FF', 'AA:BB:CC:DD:EE:FF'],
    ['aabbccddeeff', 'AA:BB:CC:DD:EE:FF'],
    ['AaBbCcDdEeFf', 'AA:BB:CC:DD:EE:FF'],
    ['aabb.ccdd.eeff', 'AA:BB:CC:DD:EE:FF'],
    ['24:0a:c4:12:34:56', '24:0A:C4:12:34:56'],
    ['240ac4123456', '24:0A:C4:12:34:56'],
    ['00-00-00-00-00-00', '00:00:00:00:00:00'],
    ['  24:0a:c4:12:34:56\n', '24:0A:C4:12:34:56'],
  ])('normalises the MAC %j to %s', (raw, want) => {
    expect(isMacAddress(raw)).toBe(true);
    expect(normalizeDeviceId(raw)).toBe(want);
  });

  it('normalises every spelling of the same MAC to one id (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), fc.boolean(), (octets, upper) => {
        const hex = [...octets].map((o) => o.toString(16).padStart(2, '0'));
        const cased = hex.map((h) => (upper ? h.toUpperCase() : h));
        const want = hex.map((h) => h.toUpperCase()).join(':');
        const spellings = [cased.join(':'), cased.join('-'), cased.join(''), `${cased[0]}${cased[1]}.${cased[2]}${cased[3]}.${cased[4]}${cased[5]}`];
        for (const s of spellings) expect(normalizeDeviceId(s)).toBe(want);
        expect(want).toMatch(/^([0-9A-F]{2}:){5}[0-9A-F]{2}$/);
        expect(normalizeDeviceId(want)).toBe(want); // idempotent
      }),
    );
  });

  it.each([
    'sensor-042',
    'dev_1',
    'node.kitchen',
    '5e1b57808711f904f5df4bad', // 24 hex digits: not a MAC
    'aabbccddeef', // 11 hex digits
    'aabbccddeeff00', // 14 hex digits
    'aa:bb:cc:dd:ee', // 5 octets
    'aa:bb:cc:dd:ee:ff:00', // 7 octets
    'aa:bb:cc:dd:ee:fg', // not hex
    'a:bb:cc:dd:ee:ff', // 1-digit octet
    'aa:bb:cc:dd:eeff:', // separators misplaced
  ])('keeps the non-MAC id %j as it is', (id) => {
    expect(isMacAddress(id)).toBe(false);
    expect(normalizeDeviceId(id)).toBe(id);
    expect(DEVICE_ID_PATTERN.test(id)).toBe(true);
  });

  it('does not change the case of non-MAC ids', () => {
    expect(normalizeDeviceId('Sensor-A1')).toBe('Sensor-A1');
    expect(normalizeDeviceId('sensor-a1')).toBe('sensor-a1');
  });
});

describe('DEVICE_ID_PATTERN', () => {
  it.each(['a', 'A', '0', 'AA:BB:CC:DD:EE:FF', 'aa-bb-cc-dd-ee-ff', 'dev.1_x-y:z', `d${'x'.repeat(63)}`])('accepts %j', (id) => {
    expect(DEVICE_ID_PATTERN.test(id)).toBe(true);
  });

  it.each([
    '',
    '-dev',
    '.dev',
    ':dev',
    '_dev',
    'dev 1',
    ' dev',
    'dev\n',
    'dev/1',
    'dev?x=1',
    'dév',
    '../etc',
    'dev#1',
    `d${'x'.repeat(64)}`, // 65 characters
  ])('rejects %j', (id) => {
    expect(DEVICE_ID_PATTERN.test(id)).toBe(false);
  });

  it('accepts the normalised form of every valid id it accepts (property)', () => {
    const idArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9:._-]{0,63}$/);
    fc.assert(
      fc.property(idArb, (id) => {
        expect(DEVICE_ID_PATTERN.test(normalizeDeviceId(id))).toBe(true);
      }),
    );
  });

  it('is what the device API uses to reject invalid ids', () => {
    const check = (device_id: unknown) => CheckRequestSchema.safeParse({ product: 'ctrl', device_id }).success;
    expect(check('aa-bb-cc-dd-ee-ff')).toBe(true);
    expect(check('sensor-042')).toBe(true);
    expect(check('')).toBe(false);
    expect(check('dev 1')).toBe(false);
    expect(check('x'.repeat(65))).toBe(false);
    expect(check(12)).toBe(false);
    const status = (device_id: unknown) => StatusRequestSchema.safeParse({ product: 'ctrl', device_id, build_number: 1, status: 'success' }).success;
    expect(status('aabbccddeeff')).toBe(true);
    expect(status('-bad')).toBe(false);
  });
});
