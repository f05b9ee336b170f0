/** Device identifiers: MACs (in any common spelling) are normalised to `AA:BB:CC:DD:EE:FF`. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,63}$/;

const MAC_FORMS = [
  /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i,
  /^([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i,
  /^([0-9a-f]{2})([0-9a-f]{2})\.([0-9a-f]{2})([0-9a-f]{2})\.([0-9a-f]{2})([0-9a-f]{2})$/i,
];

function macOctets(raw: string): string[] | undefined {
  const s = raw.trim();
  for (const re of MAC_FORMS) {
    const m = re.exec(s);
    if (m) return m.slice(1, 7);
  }
  return undefined;
}

export const isMacAddress = (raw: string): boolean => macOctets(raw) !== undefined;

export function normalizeDeviceId(raw: string): string {
  const octets = macOctets(raw);
  return octets ? octets.map((o) => o.toUpperCase()).join(':') : raw.trim();
}
