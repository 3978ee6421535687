/**
 * `host:port` to dial the host's HTTP server at, from its `[host] http` bind address: a wildcard bind (0.0.0.0, ::)
 * names no host, so it is reached over loopback (which the control guard accepts); an IPv6 host is bracketed.
 */
export function reachableAddress({ host, port }: { host: string; port: number }): string {
  const dial = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `${dial.includes(':') ? `[${dial}]` : dial}:${port}`;
}
