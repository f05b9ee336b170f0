/**
 * Named connection contexts of `otactl` (`otactl context add|use|list|remove`): which platform a
 * command talks to when no flag or environment variable says so — like kubectl contexts.
 *
 * Stored as JSON in `$XDG_CONFIG_HOME/otactl/contexts.json` (default `~/.config/otactl/`,
 * `%APPDATA%\otactl\` on Windows). Only endpoints and names live there, never credentials: signing
 * uses the standard AWS credential chain (profiles, SSO, web identity).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, UsageError } from './errors';

export interface NamedContext {
  /** Operator API base URL (the stack output AdminApiUrl, or a local platform). */
  readonly api_url: string;
  readonly device_api_url?: string;
  readonly region?: string;
  readonly bucket?: string;
  readonly s3_endpoint?: string;
}

export interface ContextFile {
  readonly current: string | null;
  readonly contexts: Readonly<Record<string, NamedContext>>;
}

export const CONTEXT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The directory contexts.json lives in; undefined when the environment names no home at all (tests with `env: {}`). */
export function configDir(env: NodeJS.ProcessEnv): string | undefined {
  const base = env.XDG_CONFIG_HOME?.trim() || (env.HOME?.trim() ? join(env.HOME.trim(), '.config') : env.APPDATA?.trim() || undefined);
  return base ? join(base, 'otactl') : undefined;
}

export const contextsPath = (env: NodeJS.ProcessEnv): string | undefined => {
  const dir = configDir(env);
  return dir ? join(dir, 'contexts.json') : undefined;
};

const EMPTY: ContextFile = { current: null, contexts: {} };

export function readContexts(env: NodeJS.ProcessEnv): ContextFile {
  const path = contextsPath(env);
  if (!path || !existsSync(path)) return EMPTY;
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${(e as Error).message}`);
  }
  const f = v as Partial<ContextFile> | null;
  if (!f || typeof f !== 'object' || !f.contexts || typeof f.contexts !== 'object') throw new CliError(`${path} is not an otactl contexts file`);
  return { current: typeof f.current === 'string' ? f.current : null, contexts: f.contexts };
}

export function writeContexts(env: NodeJS.ProcessEnv, file: ContextFile): string {
  const path = contextsPath(env);
  if (!path) throw new CliError('no config directory: set HOME or XDG_CONFIG_HOME');
  mkdirSync(configDir(env)!, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
  return path;
}

/** The context a command uses: `--context` / `OTA_CONTEXT`, else the current one; undefined when none. */
export function selectedContext(env: NodeJS.ProcessEnv, name?: string): (NamedContext & { name: string }) | undefined {
  const file = readContexts(env);
  const wanted = name?.trim() || env.OTA_CONTEXT?.trim() || undefined;
  if (wanted) {
    const c = file.contexts[wanted];
    if (!c) throw new UsageError(`no context "${wanted}" (otactl context list)`);
    return { ...c, name: wanted };
  }
  if (file.current && file.contexts[file.current]) return { ...file.contexts[file.current], name: file.current };
  return undefined;
}

export function checkContextName(name: string): string {
  if (!CONTEXT_NAME_PATTERN.test(name)) throw new UsageError(`context name "${name}" must match ${CONTEXT_NAME_PATTERN.source}`);
  return name;
}

/** Adds or replaces a context; the first one added becomes current, `use` makes it current anyway. */
export function addContext(env: NodeJS.ProcessEnv, name: string, ctx: NamedContext, use = false): ContextFile {
  checkContextName(name);
  const file = readContexts(env);
  const next: ContextFile = {
    current: use || !file.current || !file.contexts[file.current] ? name : file.current,
    contexts: { ...file.contexts, [name]: ctx },
  };
  writeContexts(env, next);
  return next;
}

export function useContext(env: NodeJS.ProcessEnv, name: string): ContextFile {
  const file = readContexts(env);
  if (!file.contexts[name]) throw new UsageError(`no context "${name}" (otactl context list)`);
  const next = { ...file, current: name };
  writeContexts(env, next);
  return next;
}

export function removeContext(env: NodeJS.ProcessEnv, name: string): ContextFile {
  const file = readContexts(env);
  if (!file.contexts[name]) throw new UsageError(`no context "${name}" (otactl context list)`);
  const { [name]: _gone, ...rest } = file.contexts;
  const next = { current: file.current === name ? null : file.current, contexts: rest };
  writeContexts(env, next);
  return next;
}
