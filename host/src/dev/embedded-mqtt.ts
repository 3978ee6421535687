import { createServer, type Server, type Socket } from 'node:net';
import type { Aedes } from 'aedes';
import type { BrokerAddress } from './broker-targets.js';
import { loadAedes } from './aedes-loader.js';

/**
 * The MQTT broker `danube-connect dev` embeds where none answers: aedes 1.x in this process, in memory, MQTT
 * 3.1.1 only (it refuses 5 with CONNACK return code 1, and the MQTT plugins fall back to 3.1.1, saying so).
 */
export class EmbeddedMqtt {
  private constructor(
    private readonly broker: Aedes,
    private readonly server: Server,
    private readonly sockets: Set<Socket>,
    readonly url: string,
  ) {}

  /** Listens on `address` (the one the connectors are configured with); rejects when it cannot bind it. */
  static async start(address: BrokerAddress): Promise<EmbeddedMqtt> {
    const { Aedes } = await loadAedes();
    const broker = await Aedes.createBroker();
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      broker.handle(socket);
    });
    const host = address.host === 'localhost' ? '127.0.0.1' : address.host;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(address.port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      throw err;
    }
    const port = (server.address() as { port: number }).port;
    return new EmbeddedMqtt(broker, server, sockets, `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`);
  }

  /** Stops accepting, disconnects every client and closes the broker. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}
