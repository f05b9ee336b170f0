/**
 * The `otactl` command tree (commander). Every action resolves the connection, builds the
 * injected client and calls a command function from lib/cli/commands or lib/cli/publish.ts;
 * `run()` turns the outcome into an exit code and never lets a stack trace reach the operator.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { Argument, Command, CommanderError, Option } from 'commander';
import { CHIPS } from '../../lambdas/core/model';
import { BINDINGS } from '../../lambdas/protocols/registry';
import pkg from '../../package.json';
import { apiClientFor } from './api';
import { buildSignerFor } from './build-signing';
import { contextAdd, contextCurrent, contextList, contextRemove, contextUse } from './commands/contexts';
import { deployCreate, deployGet, deployList, deployPromote, deployStatus, deployTransition } from './commands/deployments';
import { deviceAssign, deviceAssignment, deviceGet, deviceList, devicePatch, deviceToken, deviceUnassign } from './commands/devices';
import { firmwareGet, firmwareList, firmwareRelease, firmwareRevoke } from './commands/firmware';
import { keyAdd, keyList, keyRevoke } from './commands/keys';
import { productGet, productPut, productRetirePreviousKey, productRotateKey } from './commands/products';
import { sampleImageCommand } from './commands/sample-image';
import { signFile } from './commands/sign';
import { PROTOCOLS, simulate, type SimulateDeps } from './commands/simulate';
import { SHELLS, completionScript, type Shell } from './completion';
import { resolveConnection, type ConnectionOptions, type ResolvedConnection } from './config';
import { collectKeyValue, parseBoolArg, parseIntArg, parseList, parseNumberArg, type Ctx } from './context';
import { ApiError, CliError, EXIT, isApiError, UsageError } from './errors';
import { printJson, println, processOutput, type Output } from './output';
import { EXIT_TIMEOUT } from './publish';
import { ingestS3Client, publish } from './publish';
import type { RequestSigner } from './signer';

/** The package version (`otactl --version`); bundled into the standalone build. */
export const VERSION: string = pkg.version;
export const SECURITY_MODES = ['open', 'product_key', 'device_token'] as const;

export interface ProgramDeps {
  readonly out?: Output;
  readonly env?: NodeJS.ProcessEnv;
  readonly fetch?: typeof fetch;
  /** Replaces the credential-chain signer (tests). */
  readonly signer?: RequestSigner;
  readonly s3?: (conn: ResolvedConnection) => S3Client;
  readonly simulate?: SimulateDeps['simulate'];
  /** Aborted on Ctrl-C (`deploy status --watch`). */
  readonly signal?: AbortSignal;
  /** Poll interval of `publish` (tests shorten it). */
  readonly pollIntervalMs?: number;
  /** Refresh interval of `deploy status --watch`. */
  readonly watchIntervalMs?: number;
}

interface Globals extends ConnectionOptions {
  readonly json?: boolean;
  readonly product?: string;
}

const HELP_FOOTER = `
Connection (flags, then environment, then --stack-outputs, then the named context, then the local platform):
  --endpoint, --api-url / OTA_API_URL, OTA_ENDPOINT   operator API (local: http://127.0.0.1:$OTA_PORT, default 3000; unsigned)
  --device-endpoint / OTA_DEVICE_ENDPOINT  device API for simulate (default: the operator endpoint)
  --bucket / OTA_INGEST_BUCKET         ingest bucket for publish (local: ota-ingest)
  --s3-endpoint / OTA_S3_ENDPOINT      S3-compatible endpoint (local: http://127.0.0.1:$OTA_S3_PORT, default 4569)
  --stack-outputs / OTA_STACK_OUTPUTS  cdk-outputs.json (AdminApiUrl, DeviceApiUrl, IngestBucketName)
  --context / OTA_CONTEXT              a named context (otactl context add|use|list|remove|current)
  --region / AWS_REGION                signing region when the endpoint host does not name one
A non-loopback endpoint is signed with SigV4 (execute-api) using the standard AWS credential chain.

Exit codes: 0 ok; 1 API error, unreachable endpoint, rejected upload or unreadable file;
2 usage error (unknown command or option, missing or invalid value: nothing was sent);
3 not finished (publish got no verdict within --timeout, deploy status --watch stopped on a
paused/cancelled deployment); 130 interrupted.

  otactl --version                     the version
  otactl completion bash|zsh           shell completion: source <(otactl completion bash)
`;

export function buildProgram(deps: ProgramDeps = {}, setExit: (code: number) => void = () => {}): Command {
  const out = deps.out ?? processOutput();
  const env = deps.env ?? process.env;
  const program = new Command('otactl');
  program
    .description('Operator CLI of the ESP32 OTA platform: publish firmware, manage products, firmware, deployments and devices')
    .exitOverride()
    .configureOutput({ writeOut: (s) => out.stdout.write(s), writeErr: (s) => out.stderr.write(s) })
    .showHelpAfterError('(add --help for usage)')
    .option('--endpoint <url>', 'operator API base URL (env OTA_API_URL or OTA_ENDPOINT)')
    .option('--api-url <url>', 'same as --endpoint')
    .option('--context <name>', 'use this named context instead of the current one (env OTA_CONTEXT)')
    .option('--device-endpoint <url>', 'device API base URL (env OTA_DEVICE_ENDPOINT)')
    .option('--region <region>', 'AWS region for signing and S3 (env AWS_REGION)')
    .option('--bucket <name>', 'ingest bucket (env OTA_INGEST_BUCKET)')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint, e.g. the local s3rver (env OTA_S3_ENDPOINT)')
    .option('--stack-outputs <file>', 'cdk deploy --outputs-file JSON (env OTA_STACK_OUTPUTS)')
    .option('--sign', 'sign requests with SigV4 even for a loopback endpoint')
    .option('--no-sign', 'never sign requests')
    .option('--json', 'print the raw JSON to stdout')
    .addHelpText('after', HELP_FOOTER);

  const globals = (cmd: Command): Globals => cmd.optsWithGlobals<Globals>();
  const connection = (cmd: Command) => resolveConnection(globals(cmd), env);
  const ctxOf = (cmd: Command): Ctx => {
    const conn = connection(cmd);
    return {
      api: apiClientFor(conn, { ...(deps.fetch ? { fetch: deps.fetch } : {}), ...(deps.signer ? { signer: deps.signer } : {}) }),
      out,
      json: Boolean(globals(cmd).json),
    };
  };
  const productOption = () => new Option('--product <id>', 'product id').env('OTA_PRODUCT').makeOptionMandatory();
  const product = (cmd: Command) => globals(cmd).product!;
  /** commander action → our command function; a numeric result is the exit code. */
  const action =
    <A extends unknown[]>(fn: (cmd: Command, ...args: A) => Promise<unknown>) =>
    async (...args: unknown[]) => {
      const cmd = args[args.length - 1] as Command;
      const r = await fn(cmd, ...(args.slice(0, -2) as A));
      if (typeof r === 'number') setExit(r);
    };
  const build = parseIntArg('build', 1);

  // publish -----------------------------------------------------------------------------------
  program
    .command('publish')
    .description('Upload a release folder to the ingest bucket (manifest.json last) and wait for its build number')
    .argument('<dir>', 'folder with the firmware files (*.bin, ui.bin, *.ufw)')
    .addOption(productOption())
    .requiredOption('--version <version>', 'firmware version (semver, calendar or numeric)')
    .option('--firmware-type <type>', 'firmware type (default: the product’s)')
    .option('--release', 'release the build immediately (default: DRAFT)')
    .option('--notes <text>', 'release notes')
    .option('--channel <channel>', 'channel the build is for')
    .option('--boards <list>', 'comma-separated board types', parseList)
    .option('--app-version-check <bool>', 'false: do not require the image version to equal --version (Arduino)', parseBoolArg('--app-version-check'))
    .option('--force', 'install without asking (devices that can defer)')
    .option('--min-version <version>', 'devices must already run at least this version')
    .option('--hw-revision-min <n>', 'lowest hardware revision supported', parseIntArg('--hw-revision-min', 0))
    .option('--hw-revision-max <n>', 'highest hardware revision supported', parseIntArg('--hw-revision-max', 0))
    .option('--required-step', 'devices below this version get it before anything newer')
    .option('--timeout <seconds>', 'how long to wait for result.json', parseIntArg('--timeout', 1), 120)
    .option('--no-write-manifest', 'do not save manifest.json into the folder')
    .option('--sign-key <pem|kms:arn>', 'sign the app image (detached ECDSA P-256): a P-256 private key PEM file or kms:<key ARN>')
    .action(
      action(async (cmd, dir: string) => {
        const o = cmd.opts();
        const g = globals(cmd);
        const conn = connection(cmd);
        if (!conn.ingest.bucket) throw new CliError('no ingest bucket: pass --bucket, set OTA_INGEST_BUCKET or --stack-outputs');
        const s3 = deps.s3 ? deps.s3(conn) : ingestS3Client(conn, env);
        try {
          const r = await publish(
            { s3, bucket: conn.ingest.bucket, out, json: Boolean(g.json), ...(deps.pollIntervalMs ? { pollIntervalMs: deps.pollIntervalMs } : {}) },
            {
              dir,
              product: product(cmd),
              version: o.version,
              firmwareType: o.firmwareType,
              release: o.release,
              notes: o.notes,
              channel: o.channel,
              boards: o.boards,
              appVersionCheck: o.appVersionCheck,
              force: o.force,
              minVersion: o.minVersion,
              hwRevisionMin: o.hwRevisionMin,
              hwRevisionMax: o.hwRevisionMax,
              requiredStep: o.requiredStep,
              timeoutSeconds: o.timeout,
              writeManifest: o.writeManifest,
              ...(o.signKey ? { signer: await buildSignerFor(o.signKey, env) } : {}),
            },
          );
          // publish.ts reports a missing verdict as EXIT_TIMEOUT; the CLI's code for "not finished" is EXIT.UNFINISHED.
          return r.exitCode === EXIT_TIMEOUT ? EXIT.UNFINISHED : r.exitCode;
        } finally {
          if (!deps.s3) s3.destroy();
        }
      }),
    );

  // product -----------------------------------------------------------------------------------
  const productCmd = program.command('product').description('Products: settings, product key');
  const productPutCmd = productCmd
    .command('put')
    .description('Create or replace a product (PUT replaces every setting; --merge keeps the ones not given)')
    .argument('<product>', 'product id ([a-z0-9][a-z0-9_-]{0,31})')
    .option('--name <name>')
    .addOption(new Option('--chip <chip>', 'the chip its images are built for (required unless --merge or --file gives it)').choices([...CHIPS]))
    .option('--firmware-type <type>')
    .addOption(
      new Option(
        '--security-mode <mode>',
        'what a device must send: nothing, the product key, or its own token (required unless --merge or --file gives it)',
      ).choices([...SECURITY_MODES]),
    )
    .option('--auto-register <bool>', 'devices register on first check-in', parseBoolArg('--auto-register'))
    .option('--poll-interval <seconds>', 'poll interval handed to devices', parseIntArg('--poll-interval', 1))
    .option('--device-quota <n>', 'maximum registered devices', parseIntArg('--device-quota', 1))
    .addOption(
      new Option('--signing <policy>', 'off, optional (verify when present) or required (reject unsigned builds)').choices(['off', 'optional', 'required']),
    )
    .option('--platform-signing <bool>', "the stack's KMS key signs every accepted build", parseBoolArg('--platform-signing'))
    .option('--file <json>', 'a JSON PUT body (snake_case); flags override it')
    .option('--merge', 'start from the current settings');
  // Each protocol binding brings its own flags (lambdas/protocols/registry.ts).
  for (const b of BINDINGS) for (const f of b.cli.flags) productPutCmd.option(f.flag, f.description);
  productPutCmd.action(action((cmd, id: string) => productPut(ctxOf(cmd), id, cmd.opts())));
  productCmd
    .command('get')
    .argument('<product>')
    .description('Show a product')
    .action(action((cmd, id: string) => productGet(ctxOf(cmd), id)));
  productCmd
    .command('rotate-key')
    .argument('<product>')
    .description('Issue a new product key (shown once; the previous key stays valid until retired)')
    .action(action((cmd, id: string) => productRotateKey(ctxOf(cmd), id)));
  productCmd
    .command('retire-previous-key')
    .argument('<product>')
    .description('Stop accepting the previous product key')
    .action(action((cmd, id: string) => productRetirePreviousKey(ctxOf(cmd), id)));

  // key / sign ----------------------------------------------------------------------------------
  const keyCmd = program.command('key').description('Signing keys: the public keys a product trusts (at most 3 active, as Secure Boot v2 allows)');
  keyCmd
    .command('add')
    .description('Trust a public key (RSA-3072 Secure Boot v2, RSA-4096 esp32FOTA, EC P-256 detached)')
    .addOption(productOption())
    .requiredOption('--file <pem>', 'SPKI public key PEM (never the private key)')
    .option('--name <name>', 'a label, e.g. release-2026')
    .action(action((cmd) => keyAdd(ctxOf(cmd), product(cmd), cmd.opts())));
  keyCmd
    .command('list')
    .description('Active and revoked keys')
    .addOption(productOption())
    .action(action((cmd) => keyList(ctxOf(cmd), product(cmd))));
  keyCmd
    .command('revoke')
    .argument('<key-id>', 'the key id (64 hex) from key list')
    .description('Stop trusting a key; pauses deployments of builds only it vouched for')
    .addOption(productOption())
    .action(action((cmd, keyId: string) => keyRevoke(ctxOf(cmd), product(cmd), keyId)));
  program
    .command('sign')
    .argument('<file>', 'the app image to sign')
    .description('Write the detached signature a manifest takes (ECDSA P-256 over the SHA-256 of the file, DER, base64) to <file>.sig')
    .requiredOption('--key <pem|kms:arn>', 'a P-256 private key PEM file, or kms:<key ARN> (ECC_NIST_P256)')
    .option('-o, --output <file>', 'where to write the signature (default <file>.sig)')
    .action(action((cmd, file: string) => signFile(out, Boolean(globals(cmd).json), file, cmd.opts(), env)));

  // firmware ----------------------------------------------------------------------------------
  const fw = program.command('firmware').description('Firmware builds: list, inspect, release, revoke');
  fw.command('list')
    .description('List builds, newest first')
    .addOption(productOption())
    .addOption(new Option('--state <state>').choices(['DRAFT', 'RELEASED', 'REVOKED']))
    .option('--version <version>', 'only this version')
    .option('--limit <n>', 'page size', parseIntArg('--limit', 1))
    .option('--cursor <cursor>', 'continue a listing')
    .option('--all', 'follow cursors to the end')
    .action(action((cmd) => firmwareList(ctxOf(cmd), product(cmd), cmd.opts())));
  fw.command('get')
    .argument('<build>', 'build number', build)
    .addOption(productOption())
    .description('Show a build with its files')
    .action(action((cmd, b: number) => firmwareGet(ctxOf(cmd), product(cmd), b)));
  fw.command('release')
    .argument('<build>', 'build number', build)
    .addOption(productOption())
    .description('DRAFT → RELEASED')
    .action(action((cmd, b: number) => firmwareRelease(ctxOf(cmd), product(cmd), b)));
  fw.command('revoke')
    .argument('<build>', 'build number', build)
    .addOption(productOption())
    .description('→ REVOKED; pauses deployments that offer it')
    .action(action((cmd, b: number) => firmwareRevoke(ctxOf(cmd), product(cmd), b)));

  // deploy ------------------------------------------------------------------------------------
  const dep = program.command('deploy').description('Deployments: create, watch, promote, pause, resume, cancel');
  dep
    .command('create')
    .description('Create a deployment of a released build')
    .addOption(productOption())
    .requiredOption('--build <n>', 'build number', build)
    .option('--percentage <p>', 'share of the channel offered the build (0–100, two decimals)', parseNumberArg('--percentage'))
    .option('--channel <channel>')
    .option('--groups <list>', 'comma-separated device groups', parseList)
    .option('--seed <seed>', 'cohort seed (default: random, stored)')
    .option('--force', 'install without asking')
    .option('--schedule <steps>', 'canary steps percentage:soak_minutes:min_success_rate, e.g. "1:60:0.95,10:60:0.95,100:0:0"')
    .option('--max-failures <n>', 'auto-pause after this many failures', parseIntArg('--max-failures', 1))
    .option('--max-failure-rate <r>', 'auto-pause at this failure rate (0–1)', parseNumberArg('--max-failure-rate'))
    .option('--min-sample <n>', 'outcomes needed before the failure rate applies', parseIntArg('--min-sample', 1))
    .option('--timeout-minutes <m>', 'an offer unfinished after this counts as timed out', parseNumberArg('--timeout-minutes'))
    .action(action((cmd) => deployCreate(ctxOf(cmd), product(cmd), cmd.opts())));
  dep
    .command('list')
    .description('List deployments, newest first')
    .addOption(productOption())
    .addOption(new Option('--state <state>').choices(['active', 'paused', 'completed', 'cancelled']))
    .action(action((cmd) => deployList(ctxOf(cmd), product(cmd), cmd.opts())));
  const statusAction = action(async (cmd, id: string) =>
    deployStatus(ctxOf(cmd), product(cmd), id, {
      watch: Boolean(cmd.opts().watch),
      ...(deps.signal ? { signal: deps.signal } : {}),
      ...(deps.watchIntervalMs ? { intervalMs: deps.watchIntervalMs } : {}),
    }),
  );
  dep
    .command('status')
    .argument('<deployment>', 'deployment id')
    .addOption(productOption())
    .option('--watch', 'refresh every 2 s until completed, cancelled or paused (Ctrl-C stops)')
    .description('Counters of a deployment (offered, succeeded, failed, rolled back, timed out, in flight)')
    .action(statusAction);
  dep
    .command('get')
    .argument('<deployment>', 'deployment id')
    .addOption(productOption())
    .description('Same as status, without --watch')
    .action(action((cmd, id: string) => deployGet(ctxOf(cmd), product(cmd), id)));
  dep
    .command('promote')
    .argument('<deployment>', 'deployment id')
    .addOption(productOption())
    .requiredOption('--percentage <p>', 'new percentage (only up)', parseNumberArg('--percentage'))
    .description('Raise the percentage')
    .action(action((cmd, id: string) => deployPromote(ctxOf(cmd), product(cmd), id, cmd.opts().percentage)));
  for (const [name, what] of [
    ['pause', 'Pause (offers nothing until resumed)'],
    ['resume', 'Resume a paused deployment'],
    ['cancel', 'Cancel for good'],
    ['complete', 'Mark the rollout finished (offers nothing more)'],
  ] as const) {
    dep
      .command(name)
      .argument('<deployment>', 'deployment id')
      .addOption(productOption())
      .description(what)
      .action(action((cmd, id: string) => deployTransition(ctxOf(cmd), product(cmd), id, name)));
  }

  // device ------------------------------------------------------------------------------------
  const dev = program.command('device').description('Devices: list, inspect, settings, tokens, assignments');
  dev
    .command('list')
    .addOption(productOption())
    .option('--prefix <prefix>', 'device ids starting with this')
    .option('--limit <n>', 'page size', parseIntArg('--limit', 1))
    .option('--cursor <cursor>', 'continue a listing')
    .option('--all', 'follow cursors to the end')
    .description('List devices')
    .action(action((cmd) => deviceList(ctxOf(cmd), product(cmd), cmd.opts())));
  dev
    .command('get')
    .argument('<device>', 'device id (MAC AA:BB:CC:DD:EE:FF or other id)')
    .addOption(productOption())
    .description('Show a device with its assignment and recent status history')
    .action(action((cmd, id: string) => deviceGet(ctxOf(cmd), product(cmd), id)));
  dev
    .command('patch')
    .argument('<device>')
    .addOption(productOption())
    .option('--active <bool>', 'false: never offered anything', parseBoolArg('--active'))
    .option('--channel <channel>')
    .option('--groups <list>', 'comma-separated groups (replaces them; "" clears)', (v: string) => parseList(v))
    .option('--tag <key=value>', 'set a tag (repeatable; replaces the tag set)', collectKeyValue)
    .description('Change active, channel, groups, tags')
    .action(
      action((cmd, id: string) => {
        const o = cmd.opts();
        return devicePatch(ctxOf(cmd), product(cmd), id, { active: o.active, channel: o.channel, groups: o.groups, tags: o.tag });
      }),
    );
  dev
    .command('token')
    .argument('<device>')
    .addOption(productOption())
    .description('Issue a device token (shown once)')
    .action(action((cmd, id: string) => deviceToken(ctxOf(cmd), product(cmd), id)));
  dev
    .command('assign')
    .argument('<device>')
    .addOption(productOption())
    .requiredOption('--build <n>', 'a released build', build)
    .option('--replace', 'replace an open assignment')
    .description('Assign a released build to one device')
    .action(action((cmd, id: string) => deviceAssign(ctxOf(cmd), product(cmd), id, cmd.opts() as { build: number; replace?: boolean })));
  dev
    .command('assignment')
    .argument('<device>')
    .addOption(productOption())
    .description("Show a device's assignment")
    .action(action((cmd, id: string) => deviceAssignment(ctxOf(cmd), product(cmd), id)));
  dev
    .command('unassign')
    .argument('<device>')
    .addOption(productOption())
    .description('Cancel an open assignment')
    .action(action((cmd, id: string) => deviceUnassign(ctxOf(cmd), product(cmd), id)));

  // simulate ----------------------------------------------------------------------------------
  program
    .command('simulate')
    .description('Run a simulated fleet against the device API (check, download, verify, report)')
    .addOption(productOption())
    .requiredOption('--devices <n>', 'fleet size', parseIntArg('--devices', 1))
    .requiredOption('--fail-rate <f>', 'probability (0–1) that an install fails', parseNumberArg('--fail-rate'))
    .addOption(new Option('--protocol <protocol>', 'device protocol').choices([...PROTOCOLS]).default('native'))
    .option('--concurrency <n>', 'devices checking in at once', parseIntArg('--concurrency', 1))
    .option('--rounds <n>', 'check-ins per device', parseIntArg('--rounds', 1))
    .option('--id-prefix <mac>', 'first MAC bytes of the fleet, e.g. 24:0A:C4')
    .option('--seed <n>', 'which devices fail (reproducible)', parseIntArg('--seed'))
    .option('--firefly-path <path>', 'esp32fota manifest path /ota/<class>/<product_hex>')
    .action(
      action(async (cmd) => {
        const o = cmd.opts();
        const conn = connection(cmd);
        const r = await simulate(
          { apiUrl: conn.deviceEndpoint, out, json: Boolean(globals(cmd).json), ...(deps.simulate ? { simulate: deps.simulate } : {}) },
          {
            product: product(cmd),
            devices: o.devices,
            failRate: o.failRate,
            protocol: o.protocol,
            concurrency: o.concurrency,
            rounds: o.rounds,
            idPrefix: o.idPrefix,
            seed: o.seed,
            fireflyPath: o.fireflyPath,
          },
        );
        return r.exitCode;
      }),
    );

  // sample-image ------------------------------------------------------------------------------
  program
    .command('sample-image')
    .description('Write a small valid ESP-IDF app image (for a first publish without a toolchain)')
    .requiredOption('--version <version>', 'the version in its app descriptor (what publish --version must say)')
    .addOption(new Option('--chip <chip>', 'target chip').choices([...CHIPS]).default('esp32'))
    .requiredOption('-o, --output <file>', 'where to write it, e.g. build/app.bin')
    .option('--project-name <name>', 'project name in the app descriptor', 'otactl-sample')
    .option('--size <bytes>', 'image size', parseIntArg('--size', 1024), 64 * 1024)
    .option('--seed <n>', 'body seed: another seed, other bytes for the same version', parseIntArg('--seed', 0))
    .action(
      action(async (cmd) => {
        const o = cmd.opts();
        await sampleImageCommand(
          { out, json: Boolean(globals(cmd).json) },
          { version: o.version, chip: o.chip, output: o.output, projectName: o.projectName, size: o.size, ...(o.seed !== undefined ? { seed: o.seed } : {}) },
        );
      }),
    );

  // context -----------------------------------------------------------------------------------
  const ctxCmd = program.command('context').description('Named platforms to talk to (stored in $XDG_CONFIG_HOME/otactl or ~/.config/otactl)');
  const ctxDeps = (cmd: Command) => ({ out, env, json: Boolean(globals(cmd).json) });
  ctxCmd
    .command('add')
    .argument('<name>', 'context name')
    .description('Save a context (the first one becomes current; --use makes this one current)')
    // --api-url, --device-endpoint, --region, --bucket and --s3-endpoint are the global flags
    // (commander hands a flag to the program when both define it), read here with optsWithGlobals.
    .option('--use', 'make it the current context')
    .addHelpText(
      'after',
      `
Settings (the global flags):
  --api-url <url>          operator API base URL (stack output AdminApiUrl), required
  --device-endpoint <url>  device API base URL (stack output DeviceApiUrl)
  --region <region>        AWS region for signing and S3
  --bucket <name>          ingest bucket (stack output IngestBucketName)
  --s3-endpoint <url>      S3-compatible endpoint

  otactl context add prod --api-url https://abc123.execute-api.eu-west-1.amazonaws.com --bucket ota-ingest-123 --use
`,
    )
    .action(
      action(async (cmd, name: string) => {
        const o = cmd.optsWithGlobals();
        const apiUrl = o.apiUrl ?? o.endpoint;
        if (!apiUrl) throw new UsageError('context add needs --api-url <url>');
        contextAdd(ctxDeps(cmd), name, { apiUrl, deviceApiUrl: o.deviceEndpoint, region: o.region, bucket: o.bucket, s3Endpoint: o.s3Endpoint, use: o.use });
      }),
    );
  ctxCmd
    .command('use')
    .argument('<name>')
    .description('Make a context the current one')
    .action(action(async (cmd, name: string) => contextUse(ctxDeps(cmd), name)));
  ctxCmd
    .command('list')
    .description('List contexts (* = current)')
    .action(action(async (cmd) => contextList(ctxDeps(cmd))));
  ctxCmd
    .command('remove')
    .argument('<name>')
    .description('Delete a context')
    .action(action(async (cmd, name: string) => contextRemove(ctxDeps(cmd), name)));
  ctxCmd
    .command('current')
    .description('Show where commands go now (flags, environment, context, local default)')
    .action(action(async (cmd) => contextCurrent(ctxDeps(cmd), connection(cmd))));

  // completion --------------------------------------------------------------------------------
  program
    .command('completion')
    .description('Print a shell completion script: source <(otactl completion bash)')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices([...SHELLS]))
    .action(
      action(async (_cmd, shell: Shell) => {
        out.stdout.write(completionScript(shell, program, ['--version']));
      }),
    );

  return program;
}

/**
 * Allowed values of the request fields that are enums, for API validation errors: the API names
 * the field (`security_mode: Invalid input`, `details.fields`), the CLI says what it may be.
 */
export const ENUM_FIELDS: Readonly<Record<string, readonly string[]>> = {
  security_mode: SECURITY_MODES,
  chip: CHIPS,
  state: ['DRAFT', 'RELEASED', 'REVOKED'],
};

/** `  security_mode must be one of: open, product_key, device_token` for each enum field the error names. */
export function allowedValuesHints(e: ApiError): string[] {
  const b = e.body as { error?: { details?: { fields?: unknown } } } | undefined;
  const named = Array.isArray(b?.error?.details?.fields) ? (b!.error!.details!.fields as unknown[]).map(String) : [];
  const fromMessage = [...e.message.matchAll(/(?:^|; )([a-z_.0-9]+): /g)].map((m) => m[1]);
  const fields = [...new Set([...named, ...fromMessage])];
  return fields.flatMap((f) => {
    const leaf = f.split('.').pop()!;
    const allowed = ENUM_FIELDS[leaf];
    return allowed ? [`  ${f} must be one of: ${allowed.join(', ')}`] : [];
  });
}

/** Prints an error the way every command does; returns the exit code. */
export function reportError(out: Output, e: unknown, json: boolean): number {
  if (isApiError(e)) {
    if (json) printJson(out, (e as ApiError).body ?? { error: { code: e.code, message: e.message } });
    println(out.stderr, `error: ${e.code}: ${e.message}`);
    for (const hint of allowedValuesHints(e)) println(out.stderr, hint);
    return EXIT.ERROR;
  }
  if (e instanceof CliError) {
    println(out.stderr, `error: ${e.message}`);
    return e.exitCode;
  }
  const err = e as Error & { name?: string; $metadata?: { httpStatusCode?: number } };
  // AWS SDK errors (S3: AccessDenied, NoSuchBucket, expired credentials…): name + message, no stack.
  println(out.stderr, `error: ${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`);
  return EXIT.ERROR;
}

/**
 * Runs `otactl` with user arguments (no `node`/script prefix); resolves to the exit code (see
 * EXIT: 0 ok, 1 API/runtime error, 2 usage error, 3 not finished, 130 interrupted).
 */
export async function run(argv: readonly string[], deps: ProgramDeps = {}): Promise<number> {
  const out = deps.out ?? processOutput();
  // `--version` only as the first word: subcommands (publish, firmware list, sample-image) own a
  // `--version <version>` option, which a program-level commander option would swallow.
  if (argv[0] === '--version' || argv[0] === '-V') {
    out.stdout.write(`${VERSION}\n`);
    return EXIT.OK;
  }
  let code = 0;
  const program = buildProgram({ ...deps, out }, (c) => (code = c));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    // --help (0), or a usage error commander already printed: unknown command/option, missing or invalid value.
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    return reportError(out, e, argv.includes('--json'));
  }
}
