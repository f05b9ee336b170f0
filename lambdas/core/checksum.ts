/**
 * Size, SHA-256 and CRC-32 of a file in one streaming pass (firmware can be megabytes; the
 * upload function never buffers a whole image). CRC-32 is what Bota-style devices verify.
 */
import { createHash, type Hash } from 'node:crypto';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32/IEEE (zlib, PNG, Ethernet). */
export class Crc32 {
  private crc = 0xffffffff;
  update(chunk: Uint8Array): this {
    let c = this.crc;
    for (let i = 0; i < chunk.length; i++) c = CRC_TABLE[(c ^ chunk[i]) & 0xff] ^ (c >>> 8);
    this.crc = c;
    return this;
  }
  digest(): number {
    return (this.crc ^ 0xffffffff) >>> 0;
  }
  hex(): string {
    return this.digest().toString(16).padStart(8, '0');
  }
}

export interface FileDigestResult {
  readonly size: number;
  readonly sha256: string;
  readonly crc32: string;
}

/** Accumulates size, SHA-256 and CRC-32, and keeps the first `headBytes` and last `tailBytes` bytes. */
export class FileDigest {
  private readonly sha: Hash = createHash('sha256');
  private readonly crc = new Crc32();
  private size = 0;
  private headBuf: Buffer = Buffer.alloc(0);
  private tailBuf: Buffer = Buffer.alloc(0);

  constructor(
    private readonly headBytes = 512,
    private readonly tailBytes = 32,
  ) {}

  update(chunk: Uint8Array): this {
    this.sha.update(chunk);
    this.crc.update(chunk);
    this.size += chunk.length;
    if (this.headBuf.length < this.headBytes) {
      this.headBuf = Buffer.concat([this.headBuf, Buffer.from(chunk.subarray(0, this.headBytes - this.headBuf.length))]);
    }
    if (this.tailBytes > 0) {
      const joined = Buffer.concat([this.tailBuf, Buffer.from(chunk)]);
      this.tailBuf = joined.subarray(Math.max(0, joined.length - this.tailBytes));
    }
    return this;
  }
  result(): FileDigestResult {
    return { size: this.size, sha256: this.sha.copy().digest('hex'), crc32: this.crc.hex() };
  }
  head(): Uint8Array {
    return this.headBuf;
  }
  /** The last bytes (an ESP image's appended SHA-256 lives in its final 32 bytes). */
  tail(): Uint8Array {
    return this.tailBuf;
  }
}

export async function digestStream(stream: AsyncIterable<Uint8Array>, headBytes = 512): Promise<FileDigestResult & { head: Uint8Array; tail: Uint8Array }> {
  const d = new FileDigest(headBytes);
  for await (const chunk of stream) d.update(chunk);
  return { ...d.result(), head: d.head(), tail: d.tail() };
}

/** Identifies "the same upload": SHA-256 over the files sorted by name, `name\0sha256\n` each. */
export function contentDigest(files: readonly { name: string; sha256: string }[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) h.update(`${f.name}\0${f.sha256}\n`);
  return h.digest('hex');
}
