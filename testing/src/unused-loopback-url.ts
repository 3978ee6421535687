import { createServer } from 'node:net';

/**
 * `http://127.0.0.1:<port>` where nothing listens: a port the OS just handed out and released. For testing how
 * a client or a connector behaves when Danube is down (connection refused, not a timeout).
 */
export async function unusedLoopbackUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
