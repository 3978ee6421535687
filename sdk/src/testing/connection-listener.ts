import { createServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import type { Server as GrpcServer, ServerCredentials } from '@grpc/grpc-js';

/**
 * A TCP listener feeding a grpc-js server through a connection injector. Owning the sockets is what lets
 * the TestBroker drop every connection abruptly and keep listening on the same port.
 */
export class ConnectionListener {
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: NetServer) {}

  static async listen(grpcServer: GrpcServer, credentials: ServerCredentials, host: string, port: number): Promise<ConnectionListener> {
    const injector = grpcServer.createConnectionInjector(credentials);
    const server = createServer();
    const listener = new ConnectionListener(server);
    server.on('connection', (socket) => {
      listener.sockets.add(socket);
      socket.setNoDelay(true);
      // Resets from clients that vanish are expected; grpc-js reports them on the session.
      socket.on('error', () => {});
      socket.once('close', () => listener.sockets.delete(socket));
      injector.injectConnection(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return listener;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Destroys every open connection; resolves once they are all closed. */
  async dropConnections(): Promise<void> {
    // Sockets leave the set on 'close', so each one here still has its 'close' ahead of it.
    const closing = [...this.sockets].map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(closing);
  }

  /** Stops listening and drops what is still connected. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.dropConnections();
    await closed;
  }
}
