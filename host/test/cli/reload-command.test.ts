import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it, onTestFinished } from 'vitest';
import { runCli } from './run-cli.js';

it('reload --http pointed at something that is not a danube-connect host says so, without a stack trace', async () => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html>a web server</html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const result = await runCli(['reload', '--http', address], process.cwd());
  expect(result.stderr).toBe(`http://${address}/-/reload answered HTTP 200 (text/html), not a danube-connect host's JSON: is ${address} the host's [host] http?\n`);
  expect(result.code).toBe(1);
});
