import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect, it, onTestFinished } from 'vitest';
import { tempProject } from '../temp-project.js';
import { runCli } from './run-cli.js';

/** A TCP server that accepts every connection and never answers (a hung host, a firewall's tarpit). */
async function silentServer(): Promise<{ port: number; accepted: () => number }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, accepted: () => accepted };
}

it.each([
  ['reload', ['reload']],
  ['restart', ['restart', 'orders']],
  ['pause', ['pause', 'orders']],
  ['resume', ['resume', 'orders']],
])('%s gives up on a host that accepts the connection and never answers: a clear error at --timeout-ms, exit 1', async (_name, command) => {
  const server = await silentServer();
  const address = `127.0.0.1:${server.port}`;
  const result = await runCli([...command, '--http', address, '--timeout-ms', '300'], process.cwd());
  expect(server.accepted()).toBeGreaterThan(0);
  expect(result.stderr).toBe(`the danube-connect host on ${address} did not answer within 300 ms (--timeout-ms)\n`);
  expect(result.code).toBe(1);
});

it('restart finds a wildcard-bound host over loopback, as reload does (one address lookup for both)', async () => {
  const server = await silentServer();
  const project = tempProject({ 'host.toml': `[host]\nhttp = "0.0.0.0:${server.port}"\n` });
  for (const command of [['reload', project.path('host.toml')], ['restart', 'orders', project.path('host.toml')]]) {
    const before = server.accepted();
    const result = await runCli([...command, '--timeout-ms', '300'], project.dir);
    expect(result.stderr).toBe(`the danube-connect host on 127.0.0.1:${server.port} did not answer within 300 ms (--timeout-ms)\n`);
    expect(result.code).toBe(1);
    expect(server.accepted()).toBeGreaterThan(before);
  }
});

it('refuses a --timeout-ms that is not a positive integer', async () => {
  const result = await runCli(['reload', '--http', '127.0.0.1:1', '--timeout-ms', 'soon'], process.cwd());
  expect(result.stderr).toContain('--timeout-ms must be a positive integer (milliseconds), got "soon"');
  expect(result.code).toBe(64);
});
