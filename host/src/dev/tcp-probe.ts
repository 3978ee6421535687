import { connect } from 'node:net';

/** How long a probe waits for a TCP connection, ms: a listener on loopback answers at once, a firewall never. */
const PROBE_TIMEOUT_MS = 1_000;

/**
 * Whether something accepts TCP connections at host:port within `timeoutMs`. A refused or unreachable address,
 * a name that does not resolve and a timeout all say no: `dev` then starts a broker there when it may.
 */
export function tcpAnswers(host: string, port: number, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
