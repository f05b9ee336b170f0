/**
 * Output helpers of `otactl`: where text goes (injected, so tests capture it), `--json`, aligned
 * tables, key/value blocks and a progress bar that draws only on a terminal.
 *
 * Convention: results go to stdout (`--json`: exactly one JSON document, or one per line for
 * `--watch`), progress and diagnostics go to stderr, so `otactl … --json | jq` always works.
 */

export interface Stream {
  write(chunk: string): unknown;
  /** True when a terminal is attached (progress bars, live tables); false in CI logs and pipes. */
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface Output {
  readonly stdout: Stream;
  readonly stderr: Stream;
}

export const processOutput = (): Output => ({ stdout: process.stdout, stderr: process.stderr });

/** An Output that records everything (tests). */
export function memoryOutput(opts: { tty?: boolean } = {}): Output & { out(): string; err(): string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s), isTTY: opts.tty ?? false },
    stderr: { write: (s: string) => (err += s), isTTY: opts.tty ?? false },
    out: () => out,
    err: () => err,
  };
}

export const printJson = (out: Output, value: unknown): void => {
  out.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};
export const println = (s: Stream, line = ''): void => {
  s.write(`${line}\n`);
};

/** A cell as text: null/undefined → `-`, arrays joined, objects as compact JSON. */
export function cell(v: unknown): string {
  if (v === null || v === undefined || v === '') return '-';
  if (Array.isArray(v)) return v.length ? v.map(cell).join(',') : '-';
  if (typeof v === 'object') return Object.keys(v as object).length ? JSON.stringify(v) : '-';
  return String(v);
}

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => unknown;
  /** Right-align (numbers). */
  readonly right?: boolean;
}

/** An aligned plain-text table (no box drawing: it must survive CI logs and copy/paste). */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i].length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (columns[i].right ? v.padStart(widths[i]) : i === vals.length - 1 ? v : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

/** `key  value` lines, keys aligned. */
export function keyValues(pairs: readonly (readonly [string, unknown])[]): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`).join('\n') + '\n';
}

/** `[#########...........]  45%` */
export function bar(fraction: number, width = 30): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const filled = Math.round(f * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(f * 100)).padStart(3)}%`;
}

export const formatBytes = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;

/**
 * A one-line progress bar redrawn in place on a terminal (`\r`, throttled); silent otherwise —
 * callers print plain milestone lines when `live` is false.
 */
export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;
  constructor(
    private readonly stream: Stream,
    private readonly total: number,
    private readonly minIntervalMs = 80,
  ) {}

  get live(): boolean {
    return Boolean(this.stream.isTTY);
  }

  update(done: number, label = '', force = false): void {
    if (!this.live) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < this.minIntervalMs) return;
    this.lastDraw = now;
    const text = `${bar(this.total ? done / this.total : 1)}  ${formatBytes(done)}/${formatBytes(this.total)}  ${label}`;
    const cols = this.stream.columns && this.stream.columns >= 40 ? this.stream.columns : 100;
    const max = cols - 1;
    this.stream.write(`\r${text.slice(0, max).padEnd(max)}`);
    this.drawn = true;
  }

  done(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}

/** Redraws a block of lines in place on a terminal (live tables); appends on anything else. */
export class LiveBlock {
  private lines = 0;
  constructor(private readonly stream: Stream) {}
  render(text: string): void {
    const body = text.endsWith('\n') ? text : `${text}\n`;
    if (this.stream.isTTY && this.lines) this.stream.write(`\x1b[${this.lines}A\x1b[0J`);
    this.stream.write(body);
    this.lines = body.split('\n').length - 1;
  }
}
