import { createServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import type { Server as GrpcServer, ServerCredentials } from '@grpc/grpc-js';

/**
 * A TCP listener feeding a grpc-js server through a connection injector. Owning the sockets is what lets
 * the TestBroker drop every connection abruptly and keep listening on the same port.
 */
export class ConnectionListener {
  private readonly sockets = new Set<Socket>();
  private server: NetServer;
  private boundPort = 0;

  private constructor(
    private readonly injector: ReturnType<GrpcServer['createConnectionInjector']>,
    private readonly host: string,
  ) {
    this.server = this.netServer();
  }

  static async listen(grpcServer: GrpcServer, credentials: ServerCredentials, host: string, port: number): Promise<ConnectionListener> {
    const listener = new ConnectionListener(grpcServer.createConnectionInjector(credentials), host);
    await listener.bind(port);
    return listener;
  }

  private netServer(): NetServer {
    const server = createServer();
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      // Resets from clients that vanish are expected; grpc-js reports them on the session.
      socket.on('error', () => {});
      socket.once('close', () => this.sockets.delete(socket));
      this.injector.injectConnection(socket);
    });
    return server;
  }

  private async bind(port: number): Promise<void> {
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as AddressInfo).port;
  }

  get port(): number {
    return this.boundPort;
  }

  /** After close(): listens again on the same port, as a restarted broker process does. */
  async reopen(): Promise<void> {
    if (this.server.listening) return;
    this.server = this.netServer();
    await this.bind(this.boundPort);
  }

  /**
   * Sends GOAWAY on every open HTTP/2 session: calls in progress finish, new calls need a new connection;
   * sessions still open after `graceMs` are destroyed. The port keeps listening.
   */
  goAway(graceMs: number): void {
    this.injector.drain(graceMs);
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
