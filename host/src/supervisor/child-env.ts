/**
 * Variables of the host's environment every child gets: what Node, DNS/TLS, locale and proxies need. Anything
 * else (DANUBE_TOKEN, cloud credentials of the host's own) reaches a child only when its `[connectors.env]`
 * names it, so one plugin cannot read what another connector or the host was given.
 */
const INHERITED = new Set(['PATH', 'HOME', 'TZ', 'LANG', 'TMPDIR', 'TEMP', 'TMP', 'SYSTEMROOT', 'SystemRoot', 'NODE_EXTRA_CA_CERTS']);
const PROXIES = new Set(['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY']);

function inherited(name: string): boolean {
  const upper = name.toUpperCase();
  if (PROXIES.has(upper)) return true; // http_proxy and HTTP_PROXY are both in use
  return INHERITED.has(name) || name.startsWith('LC_');
}

/** The environment of a connector child: the allowlisted host variables, then the connector's own `env` over them. */
export function childEnv(own: Readonly<Record<string, string>>, host: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(host)) if (value !== undefined && inherited(name)) env[name] = value;
  return { ...env, ...own };
}
