/**
 * The structured logger (lambdas/shared/logger.ts, on Powertools Logger): JSON lines, appended
 * keys until resetKeys, errors with their stack, levels, and OTA_SILENT. Output is captured by
 * spying on process.stdout / process.stderr (Powertools writes through a Console bound to them).
 */
import { createLogger } from '../../lambdas/shared/logger';

type Line = Record<string, any>;
let out: Line[];
let err: Line[];
const saved = { ...process.env };

beforeEach(() => {
  out = [];
  err = [];
  delete process.env.OTA_SILENT;
  delete process.env.LOG_LEVEL;
  delete process.env.POWERTOOLS_LOG_LEVEL;
  delete process.env.AWS_LAMBDA_LOG_LEVEL;
  delete process.env.POWERTOOLS_DEV;
  const capture = (into: Line[]) => (chunk: unknown) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) into.push(JSON.parse(line));
    return true;
  };
  jest.spyOn(process.stdout, 'write').mockImplementation(capture(out) as never);
  jest.spyOn(process.stderr, 'write').mockImplementation(capture(err) as never);
});
afterEach(() => {
  jest.restoreAllMocks();
  process.env = { ...saved };
});

describe('lines', () => {
  it('expect one JSON line per entry with level, message, service and timestamp', () => {
    createLogger('check').info('check', { build: 7 });
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ level: 'INFO', message: 'check', service: 'check', build: 7 });
    expect(Number.isNaN(Date.parse(out[0]!.timestamp))).toBe(false);
  });

  it('expect the service name of each logger (one per function)', () => {
    createLogger('status').info('a');
    createLogger('admin').info('b');
    expect(out.map((l) => l.service)).toEqual(['status', 'admin']);
  });

  it('expect ERROR and WARN on stderr, INFO on stdout', () => {
    const log = createLogger('t');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(out.map((l) => l.level)).toEqual(['INFO']);
    expect(err.map((l) => l.level)).toEqual(['WARN', 'ERROR']);
  });
});

describe('appendKeys / resetKeys', () => {
  it('expect device and deployment ids on every line after appendKeys', () => {
    const log = createLogger('check');
    log.appendKeys({ deviceId: 'aabbccddeeff', deploymentId: 'dep-1' });
    log.info('one');
    log.warn('two');
    log.error('three', new Error('x'));
    for (const line of [...out, ...err]) expect(line).toMatchObject({ deviceId: 'aabbccddeeff', deploymentId: 'dep-1' });
    expect(out.length + err.length).toBe(3);
  });

  it('expect appendKeys to add to, and overwrite, earlier keys', () => {
    const log = createLogger('check');
    log.appendKeys({ requestId: 'r1', productId: 'p' });
    log.appendKeys({ deviceId: 'd', requestId: 'r2' });
    log.info('x');
    expect(out[0]).toMatchObject({ requestId: 'r2', productId: 'p', deviceId: 'd' });
  });

  it('expect resetKeys to drop every appended key (the next invocation starts clean)', () => {
    const log = createLogger('check');
    log.appendKeys({ deviceId: 'd1', deploymentId: 'dep' });
    log.resetKeys();
    log.appendKeys({ deviceId: 'd2' });
    log.info('x');
    expect(out[0]!.deviceId).toBe('d2');
    expect(out[0]).not.toHaveProperty('deploymentId');
  });

  it('expect per-call extra fields on that line only', () => {
    const log = createLogger('check');
    log.info('a', { status: 'success' });
    log.info('b');
    expect(out[0]!.status).toBe('success');
    expect(out[1]).not.toHaveProperty('status');
  });
});

describe('errors', () => {
  it('expect error(msg, err) to log the error name, message and stack', () => {
    createLogger('upload').error('infrastructure failure', new TypeError('boom'));
    expect(err).toHaveLength(1);
    expect(err[0]).toMatchObject({ level: 'ERROR', message: 'infrastructure failure', error: { name: 'TypeError', message: 'boom' } });
    expect(err[0]!.error.stack).toContain('TypeError: boom');
  });

  it('expect the cause of an error to be logged too', () => {
    createLogger('upload').error('failed', new Error('outer', { cause: new Error('inner') }));
    expect(err[0]!.error.cause).toMatchObject({ message: 'inner' });
  });

  it('expect a thrown non-Error value logged as its message', () => {
    createLogger('upload').error('failed', 'plain string');
    expect(err[0]!.error).toEqual({ message: 'plain string' });
  });

  it('expect extra fields next to the error', () => {
    createLogger('upload').error('failed', new Error('x'), { manifestKey: 'p/1/manifest.json' });
    expect(err[0]).toMatchObject({ manifestKey: 'p/1/manifest.json', error: { message: 'x' } });
  });

  it('expect no error key when no error is given', () => {
    createLogger('upload').error('failed');
    expect(err[0]).not.toHaveProperty('error');
  });
});

describe('levels and silence', () => {
  it('expect DEBUG hidden by default', () => {
    createLogger('t').debug('d');
    expect(out).toEqual([]);
  });

  it('expect DEBUG shown with LOG_LEVEL=DEBUG', () => {
    process.env.LOG_LEVEL = 'DEBUG';
    createLogger('t').debug('d');
    expect(out.map((l) => l.level)).toEqual(['DEBUG']);
  });

  it('expect LOG_LEVEL=ERROR to hide INFO and WARN', () => {
    process.env.LOG_LEVEL = 'ERROR';
    const log = createLogger('t');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect([...out, ...err].map((l) => l.level)).toEqual(['ERROR']);
  });

  it('expect OTA_SILENT=1 to silence every level', () => {
    process.env.OTA_SILENT = '1';
    const log = createLogger('t');
    log.appendKeys({ deviceId: 'd' });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e', new Error('x'));
    expect([...out, ...err]).toEqual([]);
  });

  it('expect OTA_SILENT=1 set after the logger was created to silence it too', () => {
    const log = createLogger('t');
    process.env.OTA_SILENT = '1';
    log.info('i');
    log.error('e');
    expect([...out, ...err]).toEqual([]);
  });

  it('expect POWERTOOLS_LOG_LEVEL=SILENT to silence it', () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    const log = createLogger('t');
    log.info('i');
    log.error('e');
    expect([...out, ...err]).toEqual([]);
  });
});
