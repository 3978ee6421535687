import { Backoff, ConnectorError, type ConnectorHealth, type Logger } from '@danube-connect/sdk';
import mqtt, { type IClientOptions, type IConnackPacket, type IDisconnectPacket, type IPublishPacket, type MqttClient } from 'mqtt';
import type { MqttConnectionConfig } from './connection-config.js';
import { describeEndpoint, toMqttOptions } from './mqtt-options.js';

/** CONNACK codes that mean "not with these credentials / this client id": retrying the same cannot help. */
const REFUSED_FOR_GOOD: Record<number, string> = {
  2: 'client id rejected',
  4: 'bad user name or password',
  5: 'not authorized',
  133: 'client id not valid',
  134: 'bad user name or password',
  135: 'not authorized',
  138: 'banned',
  140: 'bad authentication method',
};
/** CONNACK 1 (3.1.1 "unacceptable protocol version", what a 3.1.1 broker answers to MQTT 5) or 0x84 (MQTT 5). */
const PROTOCOL_REFUSED = new Set([1, 132]);
/** DISCONNECT 0x8E: another connection with our client id took the session over (MQTT 5 §3.14.2.1). */
const SESSION_TAKEN_OVER = 142;
/** A connection that lives shorter than this and is then closed by the broker counts towards flapping. */
const STABLE_MS = 10_000;
/** Broker-closed short-lived connections in a row that read as another client taking our client id (3.1.1). */
const FLAPS_FOR_TAKEOVER = 3;

export interface ConnectInfo {
  /** The broker resumed a session it kept for us (CONNACK session present). */
  sessionPresent: boolean;
  /** Counts connections from 1; packets of an older connection must never be acknowledged on a newer one. */
  epoch: number;
  /** Whether this is the first connection of this process. */
  first: boolean;
  client: MqttClient;
  protocolVersion: 4 | 5;
  /**
   * The broker's Receive Maximum (MQTT 5 CONNACK; 65535 when absent or on 3.1.1): QoS 1/2 PUBLISHes a client may
   * have unacknowledged towards it. A publisher that sends more is disconnected (0x93), so it must stay below.
   */
  receiveMaximum: number;
  /** The broker's Maximum Packet Size in bytes (MQTT 5 CONNACK); undefined when it set none (or on 3.1.1). */
  maximumPacketSize: number | undefined;
}

export interface MqttConnectionHooks {
  /**
   * Every PUBLISH, in receipt order, from MQTT.js's packet loop. `done()` lets MQTT.js read the next packet and
   * acknowledges a QoS 1 or 2 PUBLISH at once (PUBACK / PUBREC); `done(err)` reads on without acknowledging,
   * so the caller acknowledges later with `sendAck`.
   */
  onPublish(packet: IPublishPacket, done: (err?: Error) => void, epoch: number): void;
  /** A PUBREL: the broker got our PUBREC for `messageId` and ends its QoS 2 flow (MQTT.js answers PUBCOMP). */
  onPubrel?(messageId: number, epoch: number): void;
  /** A connection is up (CONNACK accepted). */
  onConnect(info: ConnectInfo): void | Promise<void>;
  /** The connection went down; acknowledgements of its packets are void now. */
  onDisconnect?(epoch: number): void;
}

export interface MqttConnectionOptions {
  config: MqttConnectionConfig;
  clientId: string;
  logger: Logger;
  hooks: MqttConnectionHooks;
  /** Randomness for the reconnect jitter; injectable for tests. */
  random?: () => number;
}

// `_sendPacket` is private in MQTT.js's types.
type PrivateClient = { connected: boolean; _sendPacket(packet: object, cb?: (err?: Error) => void): void };

/** What `done(err)` passes on for a QoS 2 PUBLISH MQTT.js handles as QoS 1: it sends no PUBACK and reads on. */
const NOT_BY_MQTTJS = new Error('acknowledged by MqttConnection, not MQTT.js');

/**
 * One MQTT connection, kept up: reconnects with exponential backoff and jitter, tries the configured servers
 * in turn, falls back from MQTT 5 to 3.1.1 once when the broker refuses 5, detects another client taking our
 * client id over, and reports its state as connector health. PUBACKs are sent only on the connection the
 * PUBLISH came in on (`sendAck` refuses older epochs), since a packet id means nothing on a later connection.
 */
export class MqttConnection {
  private client: MqttClient | undefined;
  private protocolVersion: 4 | 5;
  private readonly backoff: Backoff;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private ending = false;
  private currentEpoch = 0;
  private connectedAt = 0;
  private flaps = 0;
  private takenOver = false;
  private lastProblem = 'not connected yet';
  /** Set while the broker refuses us (credentials, client id, ACL): health reads unhealthy. */
  private refusal: ConnectorError | undefined;
  private reconnectCount = 0;
  private firstOutcome: { resolve: () => void; reject: (err: Error) => void } | undefined;
  /** When the current connection attempt began, and whether it already logged an error. */
  private attemptStartedAt = 0;
  private attemptErrored = false;
  /** The socket is corked until this runs (see `coalesceWrites`). */
  private uncorkAt: NodeJS.Immediate | undefined;

  constructor(private readonly options: MqttConnectionOptions) {
    this.protocolVersion = options.config.protocol_version;
    this.backoff = new Backoff({
      initialDelayMs: options.config.reconnect_period_ms,
      maxDelayMs: options.config.reconnect_max_period_ms,
      ...(options.random ? { random: options.random } : {}),
    });
  }

  get clientId(): string {
    return this.options.clientId;
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** The epoch of the current connection (0 before the first). */
  get epoch(): number {
    return this.currentEpoch;
  }

  /** Reconnects since start (connections after the first that came up). */
  get reconnects(): number {
    return this.reconnectCount;
  }

  get version(): 4 | 5 {
    return this.protocolVersion;
  }

  get mqttClient(): MqttClient | undefined {
    return this.client;
  }

  /**
   * Connects. Resolves at the first outcome: connected, or the broker not reachable (then it keeps trying in the
   * background and health says degraded). Rejects when the broker refuses us for good (credentials, client id).
   */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.firstOutcome = { resolve, reject };
      this.open();
    });
  }

  health(): ConnectorHealth {
    if (this.takenOver) return { status: 'unhealthy', detail: this.takeoverMessage() };
    if (this.refusal) return { status: 'unhealthy', detail: this.refusal.message };
    if (this.connected) return { status: 'healthy' };
    return { status: 'degraded', detail: `MQTT broker not connected: ${this.lastProblem}` };
  }

  /**
   * Acknowledges a PUBLISH of QoS `qos` (1: PUBACK, 2: PUBREC) if the connection that received it is still up;
   * false otherwise.
   */
  sendAck(messageId: number, epoch: number, qos: 1 | 2): boolean {
    const client = this.client as unknown as PrivateClient | undefined;
    if (!client || epoch !== this.currentEpoch || !client.connected) return false;
    this.coalesceWrites();
    // MQTT.js has no public API for a deferred, ordered PUBACK or PUBREC (docs/delivery-semantics.md §10); pinned version, covered by tests.
    client._sendPacket({ cmd: qos === 2 ? 'pubrec' : 'puback', messageId, reasonCode: 0 });
    return true;
  }

  /**
   * Holds the socket's writes until the end of this turn of the event loop, so the packets sent in it leave in
   * one write. MQTT.js writes each packet on its own (one syscall per PUBLISH or PUBACK), and on loopback each
   * write also pays the receiver's TCP work: a pipelined sink's child spent about 14 % of its time in those writes,
   * and a source's PUBACKs, released several at a time as Danube answers, took 23,240 writes per 60,000 (1,197
   * batched).
   */
  coalesceWrites(): void {
    const stream = this.client?.stream as { cork?: () => void; uncork?: () => void } | undefined;
    if (this.uncorkAt !== undefined || typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return;
    stream.cork();
    this.uncorkAt = setImmediate(() => {
      this.uncorkAt = undefined;
      stream.uncork?.();
    });
  }

  /** Ends the connection with DISCONNECT (no UNSUBSCRIBE: the broker keeps the session and queues for us). */
  async end(timeoutMs = 5_000): Promise<void> {
    this.ending = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    if (!client) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => client.end(true, {}, () => resolve()), timeoutMs);
      client.end(false, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private takeoverMessage(): string {
    return `client id "${this.options.clientId}" is in use by another client, which takes the session over (two connectors or instances share one client_id); give each a unique client_id`;
  }

  private open(): void {
    const { config, clientId, logger } = this.options;
    let options: IClientOptions;
    try {
      options = toMqttOptions(config, clientId, this.protocolVersion);
    } catch (err) {
      this.refuse(err instanceof ConnectorError ? err : ConnectorError.fatal(String(err), { code: 'DC_ERR_MQTT_CONFIG', cause: err }));
      return;
    }
    this.attemptStartedAt = Date.now();
    this.attemptErrored = false;
    const client = mqtt.connect(options);
    this.client = client;
    // QoS 2 (docs/delivery-semantics.md §10): MQTT.js sends PUBREC before anyone sees the message and serialises
    // its only earlier hook (customHandleAcks), so it is made to handle a QoS 2 PUBLISH as QoS 1 (which has the
    // non-blocking handleMessage hook) and the PUBREC is ours to send. Its PUBREL handler then finds nothing stored
    // and answers PUBCOMP, which is all the receiver's side of QoS 2 needs once PUBREC is sent (MQTT 5 §4.3.3).
    const qos2 = new WeakSet<IPublishPacket>();
    client.on('packetreceive', (packet) => {
      if (packet.cmd === 'publish' && packet.qos === 2) {
        qos2.add(packet);
        (packet as { qos: number }).qos = 1;
      } else if (packet.cmd === 'pubrel' && packet.messageId !== undefined) {
        this.options.hooks.onPubrel?.(packet.messageId, this.currentEpoch);
      }
    });
    client.handleMessage = (packet, callback) => {
      const epoch = this.currentEpoch;
      if (!qos2.has(packet)) return this.options.hooks.onPublish(packet, callback, epoch);
      packet.qos = 2;
      this.options.hooks.onPublish(
        packet,
        (err) => {
          if (!err) this.sendAck(packet.messageId as number, epoch, 2);
          callback(NOT_BY_MQTTJS);
        },
        epoch,
      );
    };
    client.on('connect', (connack: IConnackPacket) => this.connectedEvent(client, connack));
    client.on('close', () => this.closed(client));
    client.on('disconnect', (packet: IDisconnectPacket) => {
      if (packet.reasonCode === SESSION_TAKEN_OVER) this.takeover();
      else logger.warn({ reasonCode: packet.reasonCode, reason: packet.properties?.reasonString }, 'MQTT broker sent DISCONNECT');
    });
    client.on('error', (err: Error & { code?: number | string }) => this.errorEvent(client, err));
  }

  private endpoint(client: MqttClient): string {
    const o = client.options;
    return describeEndpoint({ host: String(o.host ?? o.hostname), port: Number(o.port), protocol: String(o.protocol) as 'mqtt' });
  }

  private connectedEvent(client: MqttClient, connack: IConnackPacket): void {
    if (client !== this.client) return;
    // Nagle delays small QoS 1 PUBACKs and low-rate traffic.
    (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
    const first = this.currentEpoch === 0;
    this.currentEpoch++;
    if (!first) this.reconnectCount++;
    this.connectedAt = Date.now();
    this.lastProblem = 'connection lost';
    this.refusal = undefined;
    const sessionPresent = connack.sessionPresent === true;
    this.options.logger.info({ server: this.endpoint(client), clientId: this.options.clientId, protocolVersion: this.protocolVersion, sessionPresent, epoch: this.currentEpoch }, 'MQTT connected');
    const outcome = this.firstOutcome;
    this.firstOutcome = undefined;
    Promise.resolve(
      this.options.hooks.onConnect({
        sessionPresent,
        epoch: this.currentEpoch,
        first,
        client,
        protocolVersion: this.protocolVersion,
        receiveMaximum: connack.properties?.receiveMaximum ?? 65_535,
        maximumPacketSize: connack.properties?.maximumPacketSize,
      }),
    ).then(
      () => outcome?.resolve(),
      (err: unknown) => {
        if (err instanceof ConnectorError && err.kind === 'fatal') {
          if (outcome) this.firstOutcome = outcome;
          this.refuse(err);
          return;
        }
        outcome?.reject(err as Error);
        this.options.logger.warn({ err }, 'setting up the MQTT session after connect failed; reconnecting');
        if (client === this.client && client.connected) client.end(true);
      },
    );
  }

  private errorEvent(client: MqttClient, err: Error & { code?: number | string }): void {
    if (client !== this.client) return;
    const code = err.code;
    if (typeof code === 'number' && PROTOCOL_REFUSED.has(code) && this.protocolVersion === 5) {
      this.options.logger.info({ server: this.endpoint(client), code }, 'MQTT broker refused protocol version 5; falling back to 3.1.1 (protocol_version = 4)');
      this.protocolVersion = 4;
      this.replaceClient();
      return;
    }
    if (typeof code === 'number' && REFUSED_FOR_GOOD[code]) {
      this.refuse(
        ConnectorError.fatal(`MQTT broker ${this.endpoint(client)} refused client id "${this.options.clientId}": ${REFUSED_FOR_GOOD[code]} (CONNACK ${code}); check username, password and the broker's ACL`, { code: 'DC_ERR_MQTT_AUTH', cause: err }),
      );
      return;
    }
    this.lastProblem = `${this.endpoint(client)}: ${err.message}`;
    this.attemptErrored = true;
    this.options.logger.warn({ server: this.endpoint(client), code, message: err.message, attemptMs: Date.now() - this.attemptStartedAt }, 'MQTT connection error');
  }

  /**
   * The broker refuses us (credentials, client id, a subscription): at start that fails the start; later the
   * connector reads unhealthy and keeps retrying with backoff, since the broker's config may be fixed meanwhile.
   */
  private refuse(error: ConnectorError): void {
    this.lastProblem = error.message;
    const outcome = this.firstOutcome;
    this.firstOutcome = undefined;
    if (outcome) {
      this.ending = true;
      clearTimeout(this.reconnectTimer);
      this.client?.end(true);
      outcome.reject(error);
      return;
    }
    if (!this.refusal) this.options.logger.error({ code: error.code, clientId: this.options.clientId }, error.message);
    this.refusal = error;
    if (this.client?.connected) this.client.end(true);
  }

  private replaceClient(): void {
    const old = this.client;
    this.client = undefined;
    old?.removeAllListeners();
    old?.on('error', () => {});
    old?.end(true);
    this.open();
  }

  private takeover(): void {
    if (!this.takenOver) this.options.logger.error({ clientId: this.options.clientId, code: 'DC_ERR_MQTT_TAKEOVER' }, this.takeoverMessage());
    this.takenOver = true;
  }

  private closed(client: MqttClient): void {
    if (client !== this.client) return;
    const wasUp = this.connectedAt > 0;
    const lived = wasUp ? Date.now() - this.connectedAt : 0;
    this.connectedAt = 0;
    if (wasUp) this.options.hooks.onDisconnect?.(this.currentEpoch);
    if (this.ending) return;
    if (wasUp) {
      this.options.logger.warn({ server: this.endpoint(client), livedMs: lived }, 'MQTT connection closed; reconnecting');
      if (lived >= STABLE_MS) {
        this.attempt = 0;
        this.flaps = 0;
        this.takenOver = false;
      } else if (++this.flaps >= FLAPS_FOR_TAKEOVER) {
        this.takeover();
      }
    }
    if (!wasUp && !this.attemptErrored) {
      // No error event: the broker closed the connection, or sent no CONNACK within connect_timeout_ms.
      const waitedMs = Date.now() - this.attemptStartedAt;
      this.lastProblem = `${this.endpoint(client)}: no CONNACK (closed after ${waitedMs} ms; connect_timeout_ms ${this.options.config.connect_timeout_ms})`;
      this.options.logger.warn({ server: this.endpoint(client), waitedMs, connectTimeoutMs: this.options.config.connect_timeout_ms }, 'MQTT broker sent no CONNACK');
    }
    const outcome = this.firstOutcome;
    this.firstOutcome = undefined;
    outcome?.resolve(); // unreachable at start: keep trying in the background, degraded
    const delayMs = this.backoff.delayMs(this.attempt++);
    this.reconnectTimer = setTimeout(() => {
      if (this.ending || this.client !== client) return;
      this.attemptStartedAt = Date.now();
      this.attemptErrored = false;
      client.reconnect();
    }, delayMs);
  }
}
