import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { unusedLoopbackPort, unusedLoopbackUrl } from '../src/unused-loopback-url.js';

const [ephemeralLow] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

afterEach(() => vi.restoreAllMocks());

describe('unusedLoopbackPort', () => {
  it('draws a port below the ephemeral range that can be bound', async () => {
    for (let i = 0; i < 20; i++) {
      const port = await unusedLoopbackPort();
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(ephemeralLow ?? 0);
      const server = await listen(port);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(await unusedLoopbackUrl()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('draws again when the port it drew is taken', async () => {
    const taken = await listen(await unusedLoopbackPort());
    const takenPort = (taken.address() as { port: number }).port;
    const fraction = (takenPort - 10_000) / ((ephemeralLow ?? 0) - 10_000);
    vi.spyOn(Math, 'random').mockReturnValueOnce(fraction + 1e-9).mockReturnValueOnce(0.5);
    try {
      const port = await unusedLoopbackPort();
      expect(port).not.toBe(takenPort);
      expect(Math.random).toHaveBeenCalledTimes(2);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
