import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';

// The first port handed out is one this test holds, as when another test's server takes a probed port before
// mosquitto binds it.
const held: Server[] = [];
vi.mock('@danube-connect/testing', async (importOriginal) => {
  const real = await importOriginal<typeof import('@danube-connect/testing')>();
  let calls = 0;
  return {
    ...real,
    unusedLoopbackPort: async () => {
      const port = await real.unusedLoopbackPort();
      if (calls++ > 0) return port;
      const server = createServer();
      held.push(server);
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      return port;
    },
  };
});

const { Mosquitto } = await import('../src/testing/mosquitto.js');
afterAll(() => held.forEach((server) => server.close()));

describe('Mosquitto.start', () => {
  it('takes a new port when the one it probed was taken before mosquitto bound it', async () => {
    const broker = await Mosquitto.start();
    try {
      expect(broker.port).not.toBe((held[0]?.address() as { port: number }).port);
      expect(broker.running).toBe(true);
    } finally {
      await broker.dispose();
    }
  });
});
