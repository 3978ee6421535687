import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A loopback port nobody listens on right now, for a server that cannot listen on port 0 and tell (mosquitto), or
 * for testing how a client behaves when its broker is down (connection refused, not a timeout).
 *
 * It is drawn below the kernel's ephemeral range, never from it: every outgoing connection of a parallel test run
 * takes an ephemeral local port, so a port the OS handed out for `listen(0)` and released can be taken by some
 * connection before the server binds it, or while a restarted server is away ("Address already in use"). Below
 * the range only another caller of this function can collide; the bind probe rules out the ports in use now.
 */
export async function unusedLoopbackPort(): Promise<number> {
  const low = ephemeralLow();
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * (low - 10_000));
    if (await bindable(port)) return port;
  }
}

/** `http://127.0.0.1:<port>` where nothing listens (see `unusedLoopbackPort`). */
export async function unusedLoopbackUrl(): Promise<string> {
  return `http://127.0.0.1:${await unusedLoopbackPort()}`;
}

/** The lowest ephemeral port: Linux's net.ipv4.ip_local_port_range, else Linux's default. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (low > 11_000) return low;
  } catch {
    // not Linux
  }
  return 32_768;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
