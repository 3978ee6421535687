import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** Why a request to the control endpoint is refused: the HTTP status and a reason for the body. */
export interface Refusal {
  status: 403 | 415;
  reason: string;
}

export interface ControlGuardOptions {
  /** The address the server is bound to (a wildcard 0.0.0.0 / :: names no host and matches nothing). */
  boundHost: string;
  /** `[host] allowed_hosts`: names or addresses clients may use to reach the control endpoint. */
  allowedHosts: readonly string[];
}

/** Requests that change something or read connector details: every method but GET, and GET /connectors*. */
export function isControlRequest(method: string | undefined, path: string): boolean {
  return method !== 'GET' || path === '/connectors' || path.startsWith('/connectors/');
}

/** The host part of a Host header or URL authority, lower-case, IPv6 without brackets. */
function hostname(authority: string): string {
  const host = authority.startsWith('[') ? authority.slice(1, authority.indexOf(']')) : (authority.split(':')[0] ?? '');
  return host.toLowerCase().replace(/\.$/, '');
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || /^::ffff:127\./.test(host);
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/**
 * The guard of every mutation and of /connectors* (Prometheus' `--web.enable-lifecycle` is the model), one place
 * for every route: a DNS-rebinding page reaches the server with its own name in Host, so Host must be the bound
 * address, a loopback literal, localhost or one of allowed_hosts; a browser page of another origin is refused by
 * Origin (and Sec-Fetch-Site); and a mutation needs `Content-Type: application/json`, which a browser cannot send
 * cross-origin without a CORS preflight this server never grants. Undefined = allowed.
 */
export function refuseControlRequest(req: IncomingMessage, options: ControlGuardOptions): Refusal | undefined {
  const hostHeader = req.headers.host ?? '';
  const host = hostname(hostHeader);
  const bound = options.boundHost.toLowerCase();
  const allowed = isLoopback(host) || (host === bound && !WILDCARDS.has(bound)) || options.allowedHosts.some((name) => name.toLowerCase() === host);
  if (!allowed) {
    return { status: 403, reason: `Host "${host}" is not allowed for ${req.method} ${req.url ?? ''} (use a loopback address or add it to [host] allowed_hosts)` };
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host.toLowerCase();
    } catch {
      originHost = undefined;
    }
    if (originHost !== hostHeader.toLowerCase()) return { status: 403, reason: `cross-origin request from ${JSON.stringify(origin)} refused` };
  }
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return { status: 403, reason: `cross-origin request (Sec-Fetch-Site: ${site}) refused` };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') return { status: 415, reason: `${req.method} needs Content-Type: application/json` };
  }
  return undefined;
}
