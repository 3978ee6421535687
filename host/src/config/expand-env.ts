import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { isSecretPath, joinPath, type KeyPath, type ProblemList } from './config-problem.js';

const REFERENCE = /\$\$\{|\$\{([^}]*)(\})?/g;
const BODY = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;
const FILE_BODY = /^file:(.+)$/s;
/** A secret file is a password, a token or a PEM key: anything bigger is a mistake (and /dev/zero never ends). */
const MAX_SECRET_FILE_BYTES = 1024 * 1024;

/** What a secret key that expands to "" becomes: removed from its table (not set). */
const NOT_SET = Symbol('not set');

export interface ExpandEnvOptions {
  /** Folder a relative `${file:path}` is read from (host.toml's). Default: the current folder. */
  dir?: string;
  /** Receives each value read from a `${file:…}`: it is a secret wherever it is used. */
  fileSecrets?: string[];
  /** Receives the key path of every value that was one whole reference (`"${PORT}"`): see referenced-scalars.ts. */
  references?: Set<string>;
}

const WHOLE_REFERENCE = /^\$\{[^}]*\}$/;

/** The contents of a secret file with its trailing newline trimmed, or why it cannot be used. */
function readSecretFile(file: string): { value: string } | { problem: string } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    return { problem: `the file cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})` };
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { problem: `${file} is not a regular file` };
    if (stat.size > MAX_SECRET_FILE_BYTES) return { problem: `${file} is larger than 1 MiB` };
    const buffer = Buffer.alloc(stat.size);
    const read = readSync(fd, buffer, 0, stat.size, 0);
    return { value: buffer.subarray(0, read).toString('utf8').replace(/\r?\n$/, '') };
  } catch (err) {
    return { problem: `the file cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})` };
  } finally {
    closeSync(fd);
  }
}

/**
 * Expands `${NAME}`, `${NAME:-default}` and `${file:/path}` in every string value of `doc` in place (`$${` is a
 * literal `${`). `:-default` applies when NAME is unset or empty. `${file:path}` is the file's contents without
 * its trailing newline (Docker and Kubernetes mount secrets as files), a path relative to `options.dir`. An unset
 * NAME without default, an unusable file or a malformed reference is a problem naming the key path; the value
 * becomes "" and its path is returned so later checks skip it. A secret key (`token`, `password` …) whose value
 * expands to "" is removed: not set, so an optional secret stays optional.
 */
export function expandEnv(doc: Record<string, unknown>, env: NodeJS.ProcessEnv, problems: ProblemList, options: ExpandEnvOptions = {}): Set<string> {
  const failed = new Set<string>();
  const visit = (value: unknown, path: KeyPath): unknown => {
    if (typeof value === 'string') return expandString(value, path);
    if (Array.isArray(value)) {
      value.forEach((v, i) => (value[i] = visit(v, [...path, i])));
    } else if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
      const table = value as Record<string, unknown>;
      for (const key of Object.keys(table)) {
        const expanded = visit(table[key], [...path, key]);
        if (expanded === NOT_SET) delete table[key];
        else table[key] = expanded;
      }
    }
    return value;
  };
  const expandString = (text: string, path: KeyPath): string | typeof NOT_SET => {
    if (!text.includes('${')) return text;
    let ok = true;
    const secret = isSecretPath(path);
    const out = text.replace(REFERENCE, (match, body: string | undefined, close: string | undefined) => {
      if (match === '$${') return '${';
      const fileRef = close === undefined ? null : FILE_BODY.exec(body ?? '');
      if (fileRef) {
        const file = fileRef[1] as string;
        const read = readSecretFile(isAbsolute(file) ? file : resolve(options.dir ?? '.', file));
        if ('value' in read) {
          options.fileSecrets?.push(read.value);
          return read.value;
        }
        ok = false;
        problems.add('DC_ERR_ENV_FILE', path, `uses \${file:${file}} but ${read.problem}`);
        return '';
      }
      const parsed = close === undefined ? null : BODY.exec(body ?? '');
      if (!parsed) {
        ok = false;
        const shown = secret ? '' : ` "${match}"`;
        problems.add('DC_ERR_ENV_REFERENCE', path, `has a malformed variable reference${shown}; expected \${NAME} or \${NAME:-default} (write $\${ for a literal \${)`);
        return '';
      }
      const [, name = '', fallback] = parsed;
      const value = env[name];
      if (fallback !== undefined && (value === undefined || value === '')) return fallback;
      if (value === undefined) {
        ok = false;
        problems.add('DC_ERR_ENV_UNSET', path, `uses \${${name}} but the environment variable ${name} is not set (give a default with \${${name}:-default})`);
        return '';
      }
      return value;
    });
    if (!ok) failed.add(joinPath(path));
    else if (WHOLE_REFERENCE.test(text)) options.references?.add(joinPath(path));
    // `token = "${DANUBE_TOKEN:-}"` on a broker without auth: an empty secret is an absent one, not an invalid "".
    if (ok && out === '' && secret) return NOT_SET;
    return out;
  };
  visit(doc, []);
  return failed;
}

/** Environment variables that override `[danube]` keys (after expansion, before validation). */
const DANUBE_ENV_OVERRIDES = { DANUBE_SERVICE_URL: 'service_url', DANUBE_TOKEN: 'token' } as const;

/**
 * Applies DANUBE_SERVICE_URL and DANUBE_TOKEN (when set and non-empty) over `[danube]`. A connector's own
 * `[connectors.danube]` keys still win: they are more specific. Returns the overridden keys by variable.
 */
export function applyDanubeEnvOverrides(doc: Record<string, unknown>, env: NodeJS.ProcessEnv): Map<string, string> {
  const applied = new Map<string, string>();
  for (const [variable, key] of Object.entries(DANUBE_ENV_OVERRIDES)) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    if (doc['danube'] === undefined) doc['danube'] = {};
    const danube = doc['danube'];
    if (danube === null || typeof danube !== 'object' || Array.isArray(danube)) continue; // the schema reports it
    (danube as Record<string, unknown>)[key] = value;
    applied.set(key, variable);
  }
  return applied;
}
