/**
 * The one structured logger: a JSON line per entry, with persistent keys (function, request id)
 * and per-request keys (device, deployment) appended by handlers.
 */
type Level = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
const ORDER: Record<Level, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };

const threshold = (): number => ORDER[(process.env.LOG_LEVEL?.toUpperCase() as Level) ?? 'INFO'] ?? ORDER.INFO;

function errorFields(e: unknown): Record<string, unknown> {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { message: String(e) };
}

export class Logger {
  private keys: Record<string, unknown> = {};
  constructor(private readonly service: string) {}

  /** Keys added to every following line until `resetKeys` (call at the start of each invocation). */
  appendKeys(keys: Record<string, unknown>): void {
    Object.assign(this.keys, keys);
  }
  resetKeys(): void {
    this.keys = {};
  }
  debug(message: string, extra?: Record<string, unknown>): void {
    this.emit('DEBUG', message, extra);
  }
  info(message: string, extra?: Record<string, unknown>): void {
    this.emit('INFO', message, extra);
  }
  warn(message: string, extra?: Record<string, unknown>): void {
    this.emit('WARN', message, extra);
  }
  error(message: string, error?: unknown, extra?: Record<string, unknown>): void {
    this.emit('ERROR', message, { ...extra, ...(error === undefined ? {} : { error: errorFields(error) }) });
  }

  private emit(level: Level, message: string, extra?: Record<string, unknown>): void {
    if (ORDER[level] < threshold() || process.env.OTA_SILENT === '1') return;
    const line = JSON.stringify({ level, message, service: this.service, timestamp: new Date().toISOString(), ...this.keys, ...extra });
    (level === 'ERROR' || level === 'WARN' ? process.stderr : process.stdout).write(line + '\n');
  }
}

export const createLogger = (service: string): Logger => new Logger(service);
