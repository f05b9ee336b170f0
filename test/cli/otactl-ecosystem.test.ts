/**
 * otactl as a citizen of its shell: --version, exit codes (0 ok, 1 API error, 2 usage, 3 not
 * finished), enum flags that list their allowed values, OTA_API_URL / OTA_PORT, named contexts
 * under $XDG_CONFIG_HOME, shell completion generated from the command tree, `sample-image`, and
 * human renderings of real API answers that never say "undefined".
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkImageStructure, parseEspAppImage, validateAppImage } from '../../lambdas/core/esp-image';
import { CHIPS } from '../../lambdas/core/model';
import { completionScript, completionTree } from '../../lib/cli/completion';
import { resolveConnection } from '../../lib/cli/config';
import { memoryOutput } from '../../lib/cli/output';
import { buildProgram, run, VERSION } from '../../lib/cli/program';
import pkg from '../../package.json';
import { buildEspImage } from '../fixtures/esp-image';
import { otactlOn } from '../support/otactl';
import { startTestPlatform, type TestPlatform } from '../support/platform';
import { publishRelease } from '../support/release';

jest.setTimeout(60_000);

const tmp = mkdtempSync(join(tmpdir(), 'otactl-eco-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function otactl(args: string[], env: NodeJS.ProcessEnv = {}) {
  const out = memoryOutput();
  const code = await run(args, { out, env });
  return { code, out: out.out(), err: out.err() };
}

/** A tiny admin API: records each request, answers `reply(req)`. */
async function fakeApi(reply: (req: IncomingMessage) => { status: number; body: unknown } = () => ({ status: 200, body: {} })) {
  const seen: { method: string; url: string }[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url! });
    req.resume();
    const r = reply(req);
    res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body));
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return { port, url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => server.close(r)) };
}

describe('--version and exit codes', () => {
  it('--version / -V print the package version and exit 0', async () => {
    expect(VERSION).toBe(pkg.version);
    for (const flag of ['--version', '-V']) {
      const r = await otactl([flag]);
      expect(r).toEqual({ code: 0, out: `${pkg.version}\n`, err: '' });
    }
  });

  it('a subcommand keeps its own --version option (publish, sample-image)', async () => {
    const out = join(tmp, 'v', 'app.bin');
    const r = await otactl(['sample-image', '--version', '2.3.4', '-o', out]);
    expect(r.code).toBe(0);
    expect(parseEspAppImage(readFileSync(out)).app.version).toBe('2.3.4');
  });

  it.each([
    [['nope'], /unknown command 'nope'/],
    [['product', 'get', 'x', '--frobnicate'], /unknown option '--frobnicate'/],
    [['firmware', 'list'], /required option '--product <id>' not specified/],
    [['deploy', 'create', '--product', 'p', '--build', 'two', '--percentage', '5'], /^error: build must be an integer/m],
    [['deploy', 'create', '--product', 'p', '--build', '2'], /give --percentage or --schedule/],
    [['product', 'put', 'p', '--chip', 'esp33', '--security-mode', 'open'], /Allowed choices are esp32, esp32s2/],
    [['completion', 'fish'], /Allowed choices are bash, zsh/],
    [[], /Usage: otactl/],
  ])('usage error %j exits 2 and sends nothing', async (args, message) => {
    const api = await fakeApi();
    try {
      const r = await otactl(args as string[], { OTA_API_URL: api.url });
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /);
      expect(api.seen).toEqual([]);
    } finally {
      await api.close();
    }
  });

  it('--help exits 0 and documents the exit codes', async () => {
    const r = await otactl(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Exit codes: 0 ok; 1 API error/);
    expect(r.out).toMatch(/2 usage error/);
  });

  it('an API error exits 1; a validation error names the allowed values of enum fields', async () => {
    const api = await fakeApi(() => ({
      status: 400,
      body: {
        error: { code: 'validation_failed', message: 'security_mode: Invalid input; chip: Invalid input', details: { fields: ['security_mode', 'chip'] } },
      },
    }));
    try {
      const body = join(tmp, 'product.json');
      writeFileSync(body, JSON.stringify({ chip: 'esp99', security_mode: 'public' }));
      const r = await otactl(['product', 'put', 'p', '--file', body], { OTA_API_URL: api.url });
      expect(r.code).toBe(1);
      expect(r.err).toBe(
        [
          'error: validation_failed: security_mode: Invalid input; chip: Invalid input',
          '  security_mode must be one of: open, product_key, device_token',
          `  chip must be one of: ${CHIPS.join(', ')}`,
          '',
        ].join('\n'),
      );
    } finally {
      await api.close();
    }
  });

  it('product put without --security-mode says which flags it needs (the API would say "Invalid input")', async () => {
    const r = await otactl(['product', 'put', 'demo', '--chip', 'esp32']);
    expect(r.code).toBe(2);
    expect(r.err).toBe('error: product put needs --security-mode <open|product_key|device_token> (or --merge to keep the current settings)\n');
  });
});

describe('where otactl connects: flags > env > context > local default', () => {
  it('OTA_API_URL and OTA_PORT are honoured (no longer always :3000)', async () => {
    const api = await fakeApi(() => ({ status: 200, body: { product_id: 'p', name: 'p', chip: 'esp32', security_mode: 'open', protocols: {} } }));
    try {
      expect((await otactl(['product', 'get', 'p'], { OTA_API_URL: api.url })).code).toBe(0);
      expect((await otactl(['product', 'get', 'p'], { OTA_PORT: String(api.port) })).code).toBe(0);
      expect(api.seen).toEqual([
        { method: 'GET', url: '/admin/v1/products/p' },
        { method: 'GET', url: '/admin/v1/products/p' },
      ]);
    } finally {
      await api.close();
    }
    expect(resolveConnection({}, { OTA_PORT: '3100', OTA_S3_PORT: '4600' })).toMatchObject({
      endpoint: 'http://127.0.0.1:3100',
      local: true,
      ingest: { bucket: 'ota-ingest', s3Endpoint: 'http://127.0.0.1:4600' },
    });
    expect(resolveConnection({}, {}).endpoint).toBe('http://127.0.0.1:3000');
    expect(() => resolveConnection({}, { OTA_PORT: 'x' })).toThrow(/OTA_PORT must be a TCP port/);
  });

  it('context add/use/list/remove store JSON under $XDG_CONFIG_HOME/otactl and select the endpoint', async () => {
    const env = { XDG_CONFIG_HOME: join(tmp, 'xdg') };
    const file = join(tmp, 'xdg', 'otactl', 'contexts.json');
    expect((await otactl(['context', 'list'], env)).out).toMatch(/^no contexts/);
    const add = await otactl(['context', 'add', 'prod', '--api-url', 'https://abc.execute-api.eu-west-1.amazonaws.com/', '--bucket', 'ingest-prod'], env);
    expect(add).toMatchObject({ code: 0, out: 'context prod saved (current): https://abc.execute-api.eu-west-1.amazonaws.com\n' });
    expect((await otactl(['context', 'add', 'lab', '--api-url', 'http://127.0.0.1:3100', '--region', 'us-east-1'], env)).out).toBe(
      'context lab saved: http://127.0.0.1:3100\n',
    );
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      current: 'prod',
      contexts: {
        prod: { api_url: 'https://abc.execute-api.eu-west-1.amazonaws.com', bucket: 'ingest-prod' },
        lab: { api_url: 'http://127.0.0.1:3100', region: 'us-east-1' },
      },
    });
    expect((await otactl(['context', 'list'], env)).out).toMatch(/^\*\s+prod\s+https:\/\/abc/m);

    // The current context is used when no flag or env says otherwise…
    expect(resolveConnection({}, env)).toMatchObject({
      endpoint: 'https://abc.execute-api.eu-west-1.amazonaws.com',
      context: 'prod',
      sign: true,
      region: 'eu-west-1',
      ingest: { bucket: 'ingest-prod' },
    });
    // …env beats it, flags beat env, --context / OTA_CONTEXT pick another.
    expect(resolveConnection({}, { ...env, OTA_API_URL: 'http://127.0.0.1:3200' }).endpoint).toBe('http://127.0.0.1:3200');
    expect(resolveConnection({ endpoint: 'http://127.0.0.1:3300' }, { ...env, OTA_API_URL: 'http://127.0.0.1:3200' }).endpoint).toBe('http://127.0.0.1:3300');
    expect(resolveConnection({ context: 'lab' }, env)).toMatchObject({ endpoint: 'http://127.0.0.1:3100', context: 'lab', local: true });
    expect(resolveConnection({}, { ...env, OTA_CONTEXT: 'lab' }).endpoint).toBe('http://127.0.0.1:3100');
    expect((await otactl(['context', 'current', '--json'], env)).out).toMatch(/"context": "prod"/);
    const missing = await otactl(['product', 'get', 'p', '--context', 'nope'], env);
    expect(missing).toMatchObject({ code: 2, err: 'error: no context "nope" (otactl context list)\n' });

    expect((await otactl(['context', 'use', 'lab'], env)).out).toBe('now using context lab\n');
    expect(resolveConnection({}, env).endpoint).toBe('http://127.0.0.1:3100');
    expect((await otactl(['context', 'remove', 'lab'], env)).out).toMatch(/^context lab removed; no current context/);
    expect(resolveConnection({}, env).endpoint).toBe('http://127.0.0.1:3000');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ current: null, contexts: { prod: expect.any(Object) } });
    expect((await otactl(['context', 'add', 'x'], env)).code).toBe(2);
    expect((await otactl(['context', 'add', 'bad name', '--api-url', 'http://x'], env)).code).toBe(2);
  });

  it('a context in the home directory is ~/.config/otactl; an injected empty environment reads none', async () => {
    const home = join(tmp, 'home');
    expect((await otactl(['context', 'add', 'h', '--api-url', 'http://127.0.0.1:3999'], { HOME: home })).code).toBe(0);
    expect(existsSync(join(home, '.config', 'otactl', 'contexts.json'))).toBe(true);
    expect(resolveConnection({}, {}).endpoint).toBe('http://127.0.0.1:3000');
  });
});

describe('completion', () => {
  const program = buildProgram();
  const nodes = completionTree(program);

  it('is derived from the command tree: every command and its options are in the script', () => {
    const paths = nodes.map((n) => n.path);
    for (const p of ['', 'product', 'product put', 'deploy status', 'device patch', 'context add', 'sample-image', 'completion']) expect(paths).toContain(p);
    const put = nodes.find((n) => n.path === 'product put')!;
    expect(put.options).toEqual(expect.arrayContaining(['--chip', '--security-mode', '--merge', '--endpoint', '--json']));
    expect(put.values['--security-mode']).toEqual(['open', 'product_key', 'device_token']);
    for (const shell of ['bash', 'zsh'] as const) {
      const script = completionScript(shell, program);
      for (const n of nodes) for (const s of n.subcommands) expect(script).toContain(s);
    }
  });

  const hasBash = spawnSync('bash', ['-c', 'true']).status === 0;
  (hasBash ? it : it.skip)('the bash script completes commands, options and enum values', async () => {
    const r = await otactl(['completion', 'bash']);
    expect(r.code).toBe(0);
    const script = join(tmp, 'otactl.bash');
    writeFileSync(script, r.out);
    const complete = (...words: string[]) =>
      execFileSync(
        'bash',
        ['-c', `source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($#-1)); _otactl; printf '%s\\n' "\${COMPREPLY[*]}"`, script, 'otactl', ...words],
        {
          encoding: 'utf8',
        },
      ).trim();
    expect(complete('')).toBe('publish product key sign firmware deploy device simulate sample-image context completion help');
    expect(complete('key', '')).toBe('add list revoke');
    expect(complete('pro')).toBe('product');
    expect(complete('product', '')).toBe('put get rotate-key retire-previous-key');
    expect(complete('product', 'put', 'x', '--security-mode', '')).toBe('open product_key device_token');
    expect(complete('--endpoint', 'http://h', 'firmware', 'list', '--state', 'R')).toBe('RELEASED REVOKED');
    expect(complete('deploy', 'list', '--stat')).toBe('--state');
    expect(complete('completion', '')).toBe('bash zsh');
  });

  it('zsh gets a #compdef script with the same tables', async () => {
    const r = await otactl(['completion', 'zsh']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^#compdef otactl\n/);
    expect(r.out).toContain('compdef _otactl otactl');
    expect(r.out).toContain("'product put|--security-mode') echo 'open product_key device_token'");
  });
});

describe('sample-image', () => {
  it.each(CHIPS)('writes a valid %s app image that passes the ingest checks', async (chip) => {
    const out = join(tmp, 'images', chip, 'app.bin');
    const r = await otactl(['sample-image', '--version', '1.0.0', '--chip', chip, '-o', out, '--json']);
    expect(r.code).toBe(0);
    const bytes = readFileSync(out);
    expect(JSON.parse(r.out)).toEqual({ path: out, chip, version: '1.0.0', size: 65536, sha256: createHash('sha256').update(bytes).digest('hex') });
    expect(checkImageStructure(bytes, { sha256: (d) => createHash('sha256').update(d).digest() })).toMatchObject({ ok: true });
    expect(validateAppImage(parseEspAppImage(bytes), { chip, version: '1.0.0' })).toEqual({ ok: true });
  });

  it('is the test fixture builder (lib/sim/esp-image-builder.ts): same bytes', async () => {
    const out = join(tmp, 'same.bin');
    await otactl(['sample-image', '--version', '3.1.4', '--chip', 'esp32s3', '-o', out, '--project-name', 'test-app', '--seed', '7']);
    expect(readFileSync(out).equals(buildEspImage({ chip: 'esp32s3', version: '3.1.4', fill: 7 }))).toBe(true);
  });

  it('refuses a bad version before writing anything', async () => {
    const out = join(tmp, 'never.bin');
    const r = await otactl(['sample-image', '--version', '../1', '-o', out]);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});

describe('against the local platform', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform();
  });
  afterAll(async () => {
    await t?.platform.stop();
  });
  const cli = (args: string[]) => otactlOn(t.platform, args);

  it('a sample image is accepted by ingest (upload + publish through the platform)', async () => {
    expect((await cli(['product', 'put', 'sample', '--chip', 'esp32c3', '--security-mode', 'open', '--firmware-type', 'Sample'])).code).toBe(0);
    const out = join(tmp, 'sample', 'app.bin');
    expect((await cli(['sample-image', '--version', '1.0.0', '--chip', 'esp32c3', '-o', out])).code).toBe(0);
    const result = await publishRelease(t.platform, { product: 'sample', version: '1.0.0', files: { 'app.bin': readFileSync(out) } });
    expect(result).toMatchObject({ status: 'accepted', build_number: 1 });

    const again = join(tmp, 'sample2');
    expect((await cli(['sample-image', '--version', '1.1.0', '--chip', 'esp32c3', '-o', join(again, 'app.bin')])).code).toBe(0);
    const pub = await cli(['publish', again, '--product', 'sample', '--version', '1.1.0', '--release']);
    expect(pub).toMatchObject({ code: 0, out: '2\n' });
  });

  it('every human rendering of real answers is free of undefined / null / NaN / [object Object]', async () => {
    const device = '24:6F:28:00:00:01';
    const dep = (await cli(['deploy', 'create', '--product', 'sample', '--build', '2', '--percentage', '100', '--json'])).json();
    const offer = await t.api.post('/api/v1/ota/check', { product: 'sample', device_id: device, version: '1.0.0' });
    expect(offer.body).toMatchObject({ status: 'update_available', build_number: 2 });
    for (const status of ['downloading', 'installing', 'success']) {
      const r = await t.api.post('/api/v1/ota/status', { product: 'sample', device_id: device, build_number: 2, status, deployment_id: dep.deployment_id });
      expect(r.status).toBeLessThan(300);
    }
    await cli(['device', 'assign', '24:6F:28:00:00:02', '--product', 'sample', '--build', '2']);
    const outputs: Record<string, string> = {};
    for (const args of [
      ['product', 'get', 'sample'],
      ['firmware', 'list', '--product', 'sample'],
      ['firmware', 'get', '2', '--product', 'sample'],
      ['deploy', 'list', '--product', 'sample'],
      ['deploy', 'get', dep.deployment_id, '--product', 'sample'],
      ['deploy', 'status', dep.deployment_id, '--product', 'sample'],
      ['device', 'list', '--product', 'sample'],
      ['device', 'get', device, '--product', 'sample'],
      ['device', 'assignment', '24:6F:28:00:00:02', '--product', 'sample'],
      ['context', 'current'],
    ]) {
      const r = await cli(args);
      expect({ args, code: r.code, err: r.err }).toEqual({ args, code: 0, err: '' });
      expect({ args, out: r.out }).not.toEqual({ args, out: expect.stringMatching(/undefined|\bnull\b|NaN|\[object /) });
      outputs[args.slice(0, 2).join(' ')] = r.out;
    }
    expect(outputs['device list']).toMatch(/success \(build 2\)/);
    expect(outputs['device get']).toMatch(/^last status\s+success build 2 at /m);
    expect(outputs['device get']).toMatch(/^\S+\s+success\s+2\s+dep/m); // history rows carry the build number
  });
});
