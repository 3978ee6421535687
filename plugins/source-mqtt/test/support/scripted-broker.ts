import { createServer, type Server, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { onTestFinished } from 'vitest';

/** What the scripted broker saw, in order, with times (ms, performance.now()). */
export interface Seen {
  cmd: string;
  at: number;
  messageId?: number;
  connection: number;
}

/**
 * A minimal MQTT broker for behaviour tests of the PUBACK window: it accepts one client at a time, answers
 * CONNECT, SUBSCRIBE and PINGREQ, sends the PUBLISH packets the test scripts, and records every packet the
 * client sends (PUBACK, PINGREQ, DISCONNECT) and when the connection closed, so a test can say exactly what
 * left the client and when.
 */
export class ScriptedBroker {
  readonly seen: Seen[] = [];
  private socket: Socket | undefined;
  private connections = 0;
  private closedCount = 0;
  private protocolVersion: 4 | 5 = 5;
  /** What CONNACK says about the session. */
  sessionPresent = false;
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<ScriptedBroker> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const broker = new ScriptedBroker(server, (server.address() as { port: number }).port);
    server.on('connection', (socket) => broker.accept(socket));
    onTestFinished(() => broker.stop());
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Connections the client closed or lost so far. */
  get closed(): number {
    return this.closedCount;
  }

  get connected(): number {
    return this.connections;
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    this.socket = socket;
    const connection = ++this.connections;
    const parser = mqttPacket.parser();
    parser.on('packet', (packet: Packet) => {
      const messageId = (packet as { messageId?: number }).messageId;
      this.seen.push({ cmd: packet.cmd, at: performance.now(), connection, ...(messageId !== undefined ? { messageId } : {}) });
      switch (packet.cmd) {
        case 'connect':
          this.protocolVersion = packet.protocolVersion === 5 ? 5 : 4;
          this.write({ cmd: 'connack', sessionPresent: this.sessionPresent, ...(this.protocolVersion === 5 ? { reasonCode: 0 } : { returnCode: 0 }) });
          break;
        case 'subscribe':
          this.write({ cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map((s) => s.qos) });
          break;
        case 'pingreq':
          this.write({ cmd: 'pingresp' });
          break;
        default:
          break;
      }
      this.wake();
    });
    socket.on('data', (chunk) => parser.parse(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closedCount++;
      this.seen.push({ cmd: 'closed', at: performance.now(), connection });
      this.wake();
    });
  }

  private write(packet: object): void {
    this.socket?.write(mqttPacket.generate(packet as Packet, { protocolVersion: this.protocolVersion }));
  }

  /** Sends a PUBLISH to the connected client. */
  publish(topic: string, payload: string | Buffer, qos: 0 | 1 | 2, messageId: number, dup = false): void {
    this.write({ cmd: 'publish', topic, payload, qos, messageId, retain: false, dup });
  }

  /** Sends a PUBREL (QoS 2, the broker's second step after the client's PUBREC). */
  pubrel(messageId: number): void {
    this.write({ cmd: 'pubrel', messageId });
  }

  /** Closes the client's connection without DISCONNECT, as a network failure does. */
  drop(): void {
    this.socket?.destroy();
  }

  /** Sends a DISCONNECT (MQTT 5) with `reasonCode` and closes the connection, as a broker does. */
  disconnect(reasonCode: number): void {
    this.write({ cmd: 'disconnect', reasonCode });
    this.socket?.end();
  }

  /** Message ids of the `cmd` packets received (e.g. `pubrec`), in order, on connection `connection` or any. */
  ids(cmd: string, connection?: number): number[] {
    return this.seen.filter((s) => s.cmd === cmd && (connection === undefined || s.connection === connection)).map((s) => s.messageId as number);
  }

  /** PUBACK message ids received, in order (on any connection). */
  pubacks(): number[] {
    return this.seen.filter((s) => s.cmd === 'puback').map((s) => s.messageId as number);
  }

  count(cmd: string, after = 0): number {
    return this.seen.filter((s) => s.cmd === cmd && s.at >= after).length;
  }

  /** Resolves once `check()` holds, re-checked on every packet; rejects after `timeoutMs` with what was seen. */
  until(check: () => boolean, timeoutMs = 20_000, what = 'the expected packets'): Promise<void> {
    return new Promise((resolve, reject) => {
      const test = () => {
        if (!check()) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${what} not seen within ${timeoutMs} ms; seen: ${this.seen.map((s) => s.cmd + (s.messageId ?? '')).join(' ')}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(test);
      };
      this.waiters.add(test);
      test();
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  async stop(): Promise<void> {
    this.socket?.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
