import { isSecretPath, joinPath, type KeyPath, type ProblemList } from './config-problem.js';

const REFERENCE = /\$\$\{|\$\{([^}]*)(\})?/g;
const BODY = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

/**
 * Expands `${NAME}` and `${NAME:-default}` in every string value of `doc` in place (`$${` is a literal `${`).
 * `:-default` applies when NAME is unset or empty. An unset NAME without default, or a malformed reference, is a
 * problem naming the key path; the value becomes "" and its path is returned so later checks skip it.
 */
export function expandEnv(doc: Record<string, unknown>, env: NodeJS.ProcessEnv, problems: ProblemList): Set<string> {
  const failed = new Set<string>();
  const visit = (value: unknown, path: KeyPath): unknown => {
    if (typeof value === 'string') return expandString(value, path);
    if (Array.isArray(value)) {
      value.forEach((v, i) => (value[i] = visit(v, [...path, i])));
    } else if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
      const table = value as Record<string, unknown>;
      for (const key of Object.keys(table)) table[key] = visit(table[key], [...path, key]);
    }
    return value;
  };
  const expandString = (text: string, path: KeyPath): string => {
    if (!text.includes('${')) return text;
    let ok = true;
    const secret = isSecretPath(path);
    const out = text.replace(REFERENCE, (match, body: string | undefined, close: string | undefined) => {
      if (match === '$${') return '${';
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
