/** `otactl context add|use|list|remove|current`: named platforms (lib/cli/contexts.ts), stored under the user's config dir. */
import type { ResolvedConnection } from '../config';
import { addContext, contextsPath, readContexts, removeContext, useContext, type NamedContext } from '../contexts';
import { UsageError } from '../errors';
import { printJson, table, type Output } from '../output';

interface Deps {
  readonly out: Output;
  readonly json: boolean;
  readonly env: NodeJS.ProcessEnv;
}

export interface ContextAddOptions {
  readonly apiUrl: string;
  readonly deviceApiUrl?: string;
  readonly region?: string;
  readonly bucket?: string;
  readonly s3Endpoint?: string;
  readonly use?: boolean;
}

function checkUrl(v: string, flag: string): string {
  try {
    const u = new URL(v);
    if (u.protocol === 'http:' || u.protocol === 'https:') return v.replace(/\/+$/, '');
  } catch {
    /* below */
  }
  throw new UsageError(`${flag} is not an http(s) URL: ${v}`);
}

const listing = (d: Deps) => {
  const f = readContexts(d.env);
  return {
    current: f.current,
    path: contextsPath(d.env) ?? null,
    contexts: Object.entries(f.contexts).map(([name, c]) => ({ name, current: name === f.current, ...c })),
  };
};

function printList(d: Deps): void {
  const l = listing(d);
  if (d.json) return printJson(d.out, l);
  if (!l.contexts.length) {
    d.out.stdout.write(`no contexts (otactl context add <name> --api-url <url>)${l.path ? `; stored in ${l.path}` : ''}\n`);
    return;
  }
  d.out.stdout.write(
    table(l.contexts, [
      { header: 'current', value: (c) => (c.current ? '*' : '') },
      { header: 'name', value: (c) => c.name },
      { header: 'api url', value: (c) => c.api_url },
      { header: 'region', value: (c) => c.region },
      { header: 'bucket', value: (c) => c.bucket },
    ]),
  );
}

export function contextAdd(d: Deps, name: string, o: ContextAddOptions): void {
  const ctx: NamedContext = {
    api_url: checkUrl(o.apiUrl, '--api-url'),
    ...(o.deviceApiUrl ? { device_api_url: checkUrl(o.deviceApiUrl, '--device-api-url') } : {}),
    ...(o.region ? { region: o.region } : {}),
    ...(o.bucket ? { bucket: o.bucket } : {}),
    ...(o.s3Endpoint ? { s3_endpoint: checkUrl(o.s3Endpoint, '--s3-endpoint') } : {}),
  };
  const f = addContext(d.env, name, ctx, o.use);
  if (d.json) return printJson(d.out, { name, current: f.current === name, ...ctx });
  d.out.stdout.write(`context ${name} saved${f.current === name ? ' (current)' : ''}: ${ctx.api_url}\n`);
}

export function contextUse(d: Deps, name: string): void {
  useContext(d.env, name);
  if (d.json) return printJson(d.out, { current: name });
  d.out.stdout.write(`now using context ${name}\n`);
}

export function contextRemove(d: Deps, name: string): void {
  const f = removeContext(d.env, name);
  if (d.json) return printJson(d.out, { removed: name, current: f.current });
  d.out.stdout.write(`context ${name} removed${f.current === null ? '; no current context (the local platform is the default)' : ''}\n`);
}

export const contextList = (d: Deps): void => printList(d);

/** Where commands go now, after flags, environment and contexts: `otactl context current`. */
export function contextCurrent(d: Deps, conn: ResolvedConnection): void {
  const v = {
    context: conn.context ?? null,
    endpoint: conn.endpoint,
    device_endpoint: conn.deviceEndpoint,
    local: conn.local,
    signed: conn.sign,
    region: conn.region ?? null,
    bucket: conn.ingest.bucket ?? null,
    s3_endpoint: conn.ingest.s3Endpoint ?? null,
  };
  if (d.json) return printJson(d.out, v);
  d.out.stdout.write(
    `${[
      ['context', v.context ?? '(none)'],
      ['endpoint', `${v.endpoint}${v.local ? ' (local platform, unsigned)' : v.signed ? ' (SigV4)' : ''}`],
      ['device endpoint', v.device_endpoint],
      ['region', v.region ?? '-'],
      ['bucket', v.bucket ?? '-'],
      ['s3 endpoint', v.s3_endpoint ?? '- (AWS S3)'],
    ]
      .map(([k, val]) => `${k.padEnd(15)}  ${val}`)
      .join('\n')}\n`,
  );
}
