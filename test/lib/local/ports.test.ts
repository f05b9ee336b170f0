/**
 * The first ten minutes: the recipe `npm start` prints works as printed, on the ports the
 * platform actually bound; a port that is already taken is one line naming the variable to set.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { PortInUseError, startPlatform } from '../../../lib/local/platform';
import { recipeCommands } from '../../../lib/local/recipe';

jest.setTimeout(120_000);
const root = join(__dirname, '..', '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'ota-ports-'));
/**
 * `npm start` and otactl built from this checkout's sources for this test alone: bin/bundle.mjs
 * caches under node_modules/.cache, which checkouts sharing one node_modules would share.
 */
const localBundle = join(root, 'node_modules', '.cache', 'ota-test', `local-${process.pid}.cjs`);
const otactlBundle = join(tmp, 'otactl.cjs');
beforeAll(async () => {
  await build({
    entryPoints: [join(root, 'bin', 'local.ts')],
    outfile: localBundle,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    external: ['dynalite', 's3rver'],
    absWorkingDir: root,
    logLevel: 'warning',
  });
  execFileSync(process.execPath, [join(root, 'bin', 'build-cli.mjs'), '--outfile', otactlBundle], { cwd: root, stdio: 'pipe' });
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(localBundle, { force: true });
});

/** Without the OTA_ and AWS_ settings of the test process. */
const baseEnv = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTA_') && !k.startsWith('AWS_')));

async function occupy(): Promise<{ port: number; server: Server }> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as { port: number }).port, server };
}
async function freePort(): Promise<number> {
  const { port, server } = await occupy();
  await new Promise((r) => server.close(r));
  return port;
}

function sh(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], { cwd, env, timeout: 90_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function startLocal(env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; ready: Promise<void>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [localBundle], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.includes('OTA_READY ')) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`npm start exited with ${code}:\n${out}`));
    });
  });
  return { child, output: () => out, ready, exited };
}

describe('a port already in use', () => {
  it.each([
    ['apiPort', 'OTA_PORT'],
    ['cdnPort', 'OTA_CDN_PORT'],
    ['s3Port', 'OTA_S3_PORT'],
  ] as const)('startPlatform with %s taken rejects with a PortInUseError naming %s', async (option, envVar) => {
    const taken = await occupy();
    try {
      const ports = { apiPort: 0, cdnPort: 0, s3Port: 0, [option]: taken.port };
      const e = await startPlatform({ inMemory: true, quiet: true, sweepIntervalMs: 0, ...ports }).then(
        async (p) => (await p.stop(), undefined),
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(PortInUseError);
      expect((e as PortInUseError).message).toContain(`port ${taken.port}`);
      expect((e as PortInUseError).message).toContain(`Set ${envVar} to a free port`);
    } finally {
      await new Promise((r) => taken.server.close(r));
    }
  });

  it('npm start says so in one line on stderr and exits 1 (no stack trace)', async () => {
    const taken = await occupy();
    try {
      const run = startLocal({ ...baseEnv(), OTA_DATA_DIR: join(tmp, 'busy'), OTA_PORT: String(taken.port), OTA_CDN_PORT: '0', OTA_S3_PORT: '0' });
      run.ready.catch(() => undefined);
      expect(await run.exited).toBe(1);
      const lines = run.output().trim().split('\n');
      expect(lines).toEqual([
        expect.stringMatching(new RegExp(`^npm start: port ${taken.port} \\(device and operator API\\) is already in use .*Set OTA_PORT to a free port`)),
      ]);
    } finally {
      await new Promise((r) => taken.server.close(r));
    }
  });
});

describe('the printed recipe', () => {
  it('names the exports only when the ports are not the defaults', () => {
    expect(recipeCommands({ apiUrl: 'http://127.0.0.1:3000', s3Endpoint: 'http://127.0.0.1:4569' })[0]).toMatch(
      /^npx otactl product put demo .*--security-mode open/,
    );
    expect(recipeCommands({ apiUrl: 'http://127.0.0.1:3100', s3Endpoint: 'http://127.0.0.1:4600' })[0]).toBe('export OTA_PORT=3100 OTA_S3_PORT=4600');
  });

  it('runs as printed against the platform that printed it (non-default ports)', async () => {
    const [api, cdn, s3] = [await freePort(), await freePort(), await freePort()];
    const run = startLocal({
      ...baseEnv(),
      OTA_DATA_DIR: join(tmp, 'data'),
      OTA_PORT: String(api),
      OTA_CDN_PORT: String(cdn),
      OTA_S3_PORT: String(s3),
      OTA_SILENT: '1',
    });
    try {
      await run.ready;
      const out = run.output();
      const start = out.indexOf('Publish a first firmware');
      expect(start).toBeGreaterThan(-1);
      const printed = out
        .slice(start)
        .split('\n')
        .slice(1)
        .filter((l) => l.startsWith('  '));
      const commands = printed
        .slice(0, printed.findIndex((l) => l.startsWith('  (')) === -1 ? undefined : printed.findIndex((l) => l.startsWith('  (')))
        .map((l) => l.replace(/\s+# .*$/, '').trim());
      expect(commands[0]).toBe(`export OTA_PORT=${api} OTA_S3_PORT=${s3}`);
      expect(commands.length).toBe(6);

      const cwd = mkdtempSync(join(tmp, 'recipe-'));
      // The shell the recipe is pasted into: the export line, then each command.
      let env = baseEnv();
      for (const c of commands) {
        if (c.startsWith('export ')) {
          env = {
            ...env,
            ...Object.fromEntries(
              c
                .slice('export '.length)
                .split(' ')
                .map((kv) => kv.split('=') as [string, string]),
            ),
          };
          continue;
        }
        // In a scratch folder (sample-image writes ./build there); `npx otactl` (the clone's bin,
        // bin/otactl.mjs) is spelled out as this checkout's otactl build.
        const r = await sh(c.replace(/^npx otactl /, `"${process.execPath}" "${otactlBundle}" `), cwd, env);
        expect({ c, code: r.code, stderr: r.stderr.replace(/^npm warn.*\n/gm, '') }).toEqual({ c, code: 0, stderr: expect.not.stringMatching(/error/i) });
        if (c.includes(' publish ')) expect(r.stdout).toBe('1\n');
        if (c.startsWith('curl ')) expect(JSON.parse(r.stdout)).toMatchObject({ status: 'update_available', build_number: 1, version: '1.0.0' });
      }
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });
});
