import { Server, ServerCredentials } from '@grpc/grpc-js';
import { AuthGuard } from './auth-guard.js';
import { Broker } from './broker.js';
import { registerBrokerServices } from './broker-services.js';
import { ConnectionListener } from './connection-listener.js';
import { RECEIVE_LIMIT_BYTES } from './grpc-handlers.js';
import { resolveFailurePolicy } from './failure-policy.js';
import type { FailurePolicy } from './failure-policy.js';
import { FaultState } from './fault-state.js';
import { mintJwt } from './mint-jwt.js';
import type { DanubeJwtClaims } from './mint-jwt.js';
import { randomId } from './random-id.js';
import { TestCluster } from './test-cluster.js';
import { normalizeNamespace } from './topic-name.js';

export interface TestBrokerOptions {
  /** Bind address; default '127.0.0.1' (loopback only). */
  host?: string;
  /** Client port; default 0 (OS-assigned). */
  port?: number;
  /** Admin port; default 0 (OS-assigned). */
  adminPort?: number;
  /** Default: a random uint64 as a decimal string. */
  brokerId?: string;
  /** Shared metadata, so brokers of one cluster redirect to each other; default: a new one. */
  cluster?: TestCluster;
  /** CreateProducer creates missing topics; default true (standalone, docs/danube-protocol.md §6.2). */
  autoCreateTopics?: boolean;
  /** Created at start besides 'default' and 'system'. */
  namespaces?: string[];
  /** Payload bytes policy; 0 = unlimited, the standalone default (docs/danube-protocol.md §2.6). */
  maxMessageSize?: number;
  /** Reliable window per subscription; default 10 (docs/danube-protocol.md §9.4). */
  maxUnackedMessages?: number;
  /**
   * Emulates the broker's live-tail defect (docs/danube-protocol.md §9.4): a Reliable subscription created at "latest" reads
   * new messages from a channel of this many; when its dispatch falls further behind the topic's end, the
   * oldest undelivered messages are skipped for that subscription for good. Subscriptions resumed after
   * `restart()` read "from the WAL" and never skip. Default: off.
   */
  liveTailCapacity?: number;
  /**
   * Frees every Reliable message no subscription can read any more: acked by all of the topic's subscriptions,
   * or published while it had none (a new subscription starts at the end, docs/danube-protocol.md §9.4). For long
   * runs and benchmarks: the log is otherwise kept whole in this process's heap, and the garbage collector's
   * pauses grow with it (tens of ms after ~100k messages), which a real broker's storage does not add.
   * storedMessages() then lists only what is kept. Default false.
   */
  dropConsumed?: boolean;
  /** Defaults from docs/danube-protocol.md §9.4. */
  failurePolicy?: Partial<FailurePolicy>;
  /** When set, every RPC on both ports needs `authorization: Bearer <HS256 JWT>` (docs/danube-protocol.md §5). */
  auth?: { jwtSecret: string };
  /** Serve TLS (URLs become https://); requireClientCert = mTLS. */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer; requireClientCert?: boolean };
  /**
   * Advertised connect_url (scheme optional). When it differs from broker_url, lookups return proxy=true
   * (docs/danube-protocol.md §7.1); broker_url stays this broker's own serviceUrl, as with the broker's `--connect-url`.
   */
  connectUrl?: string;
}

/** One message of a Reliable topic's log. */
export interface StoredMessage {
  /** 0-based topic offset. */
  offset: number;
  payload: Buffer;
  attributes: Record<string, string>;
  producerName: string;
  /** '0' for dead-letter copies. */
  producerId: string;
  requestId: string;
  /** As sent by the producer (ms since the epoch with reference clients). */
  publishTime: string;
  brokerAddr: string;
  routingKey?: string;
  schemaId?: string;
  schemaVersion?: number;
}

/** Grace for sessions to close after stop() ended every stream, before sockets are destroyed. */
const SHUTDOWN_GRACE_MS = 1_000;

function formatUrl(scheme: string, host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

async function shutdown(server: Server): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SHUTDOWN_GRACE_MS).unref();
    }),
  ]);
  clearTimeout(timer);
  server.forceShutdown();
}

/**
 * An in-process Danube broker speaking the real wire protocol over gRPC (client and admin ports), with the
 * semantics of a standalone broker as docs/danube-protocol.md describes them, plus fault injection.
 */
export class TestBroker {
  readonly serviceUrl: string;
  readonly adminUrl: string;
  readonly brokerUrl: string;
  readonly connectUrl: string;
  readonly brokerId: string;
  readonly cluster: TestCluster;
  /** Every `x-danube-broker-url` value received on the client port (clients send it in proxy mode, docs/danube-protocol.md §7.1). */
  readonly proxyHeaders: Set<string>;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly broker: Broker,
    private readonly faults: FaultState,
    private readonly servers: { client: Server; admin: Server },
    private readonly listeners: { client: ConnectionListener; admin: ConnectionListener },
    adminUrl: string,
    private readonly jwtSecret: string | undefined,
    proxyHeaders: Set<string>,
  ) {
    this.proxyHeaders = proxyHeaders;
    this.serviceUrl = broker.brokerUrl;
    this.brokerUrl = broker.brokerUrl;
    this.connectUrl = broker.connectUrl;
    this.adminUrl = adminUrl;
    this.brokerId = broker.brokerId;
    this.cluster = broker.cluster;
  }

  /** Starts both servers; resolves once they listen and the boot namespaces exist (docs/danube-protocol.md §1). */
  static async start(options: TestBrokerOptions = {}): Promise<TestBroker> {
    const host = options.host ?? '127.0.0.1';
    const cluster = options.cluster ?? new TestCluster();
    const tls = options.tls;
    const scheme = tls ? 'https' : 'http';
    const credentials = () =>
      tls
        ? ServerCredentials.createSsl(
            tls.ca === undefined ? null : Buffer.from(tls.ca),
            [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }],
            tls.requireClientCert ?? false,
          )
        : ServerCredentials.createInsecure();
    const serverOptions = { 'grpc.max_receive_message_length': RECEIVE_LIMIT_BYTES };
    const servers = { client: new Server(serverOptions), admin: new Server(serverOptions) };
    const client = await ConnectionListener.listen(servers.client, credentials(), host, options.port ?? 0);
    let admin: ConnectionListener;
    try {
      admin = await ConnectionListener.listen(servers.admin, credentials(), host, options.adminPort ?? 0);
    } catch (err) {
      await client.close();
      throw err;
    }
    const brokerUrl = formatUrl(scheme, host, client.port);
    const connectUrl = options.connectUrl
      ? /^[a-z]+:\/\//i.test(options.connectUrl)
        ? options.connectUrl
        : `${scheme}://${options.connectUrl}`
      : brokerUrl;
    const broker = new Broker(cluster, {
      brokerId: options.brokerId ?? randomId(),
      brokerUrl,
      connectUrl,
      autoCreateTopics: options.autoCreateTopics ?? true,
      maxMessageSize: options.maxMessageSize ?? 0,
      maxUnackedMessages: options.maxUnackedMessages ?? 10,
      liveTailCapacity: options.liveTailCapacity,
      dropConsumed: options.dropConsumed ?? false,
      failurePolicy: resolveFailurePolicy(options.failurePolicy),
    });
    cluster.join(broker);
    for (const namespace of ['default', 'system', ...(options.namespaces ?? [])]) {
      cluster.addNamespace(normalizeNamespace(namespace));
    }
    // The system events topic exists from boot; its dispatch strategy is not documented (Reliable assumed).
    if (!cluster.topic('/system/_events_topic')) broker.createTopic('/system/_events_topic', 'Reliable');

    const faults = new FaultState();
    const proxyHeaders = new Set<string>();
    registerBrokerServices(servers, broker, faults, options.auth ? new AuthGuard(options.auth.jwtSecret) : undefined, proxyHeaders);
    return new TestBroker(broker, faults, servers, { client, admin }, formatUrl(scheme, host, admin.port), options.auth?.jwtSecret, proxyHeaders);
  }

  /** Ends every stream (status OK), answers held-back responses and closes both servers. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.cluster.leave(this.broker);
      this.faults.releaseAll();
      this.broker.close();
      await Promise.all([shutdown(this.servers.client), shutdown(this.servers.admin)]);
      await Promise.all([this.listeners.client.close(), this.listeners.admin.close()]);
    })();
    return this.stopping;
  }

  /**
   * Abruptly closes every connection on both ports (clients see UNAVAILABLE or a stream error). Consumers
   * become inactive as on a client disconnect; all other state is kept and the ports keep listening.
   */
  async dropConnections(): Promise<void> {
    for (const consumer of this.broker.consumers.values()) {
      if (consumer.streaming) consumer.deactivate();
    }
    await Promise.all([this.listeners.client.dropConnections(), this.listeners.admin.dropConnections()]);
  }

  /**
   * Sends HTTP/2 GOAWAY on every client-port connection, as a broker shutting down gracefully or a proxy
   * retiring a connection does: calls already received finish, clients open a new connection for the next
   * ones; connections still open after `graceMs` are destroyed. All broker state is kept.
   */
  goAway(graceMs = SHUTDOWN_GRACE_MS): void {
    this.listeners.client.goAway(graceMs);
  }

  /**
   * Simulates a broker process restart: connections dropped, producers and consumers forgotten (sends with
   * old producer ids get NOT_FOUND, health checks CLOSE, Subscribe starts over). Topics, stored messages and
   * subscription cursors survive, and unacked messages are redelivered. A real standalone restart is worse:
   * its topics are known but no longer served (docs/danube-protocol.md §1 restart caveat).
   */
  async restart(): Promise<void> {
    await this.dropConnections();
    this.broker.forgetClients();
  }

  /**
   * The broker process goes away: both ports stop listening and every connection is reset, so clients see
   * refused connections (UNAVAILABLE) until `comeBackOnline()`. State is kept for the comeback.
   */
  async goOffline(): Promise<void> {
    for (const consumer of this.broker.consumers.values()) {
      if (consumer.streaming) consumer.deactivate();
    }
    await Promise.all([this.listeners.client.close(), this.listeners.admin.close()]);
  }

  /**
   * After `goOffline()`: listens again on the same ports, as the restarted process does. Producers and consumers
   * are forgotten as in `restart()`; topics, stored messages and subscription cursors survive.
   */
  async comeBackOnline(): Promise<void> {
    this.broker.forgetClients();
    await Promise.all([this.listeners.client.reopen(), this.listeners.admin.reopen()]);
  }

  /** Every client-port RPC answers UNAVAILABLE for the next `ms` milliseconds. */
  unavailableFor(ms: number): void {
    this.faults.unavailableUntil = Date.now() + ms;
  }

  /**
   * For the next `ms` milliseconds every SendMessage that passes the producer and size checks is refused with
   * PERMISSION_DENIED "Unable to publish the message: <text>" and not stored, as the broker answers a publish
   * failure (docs/danube-protocol.md §8.2), e.g. a WAL append error. Default text: a storage write error.
   */
  rejectSendsFor(ms: number, text = 'Failed to append message to WAL: storage write error (TestBroker.rejectSendsFor)'): void {
    this.faults.sendRejection = text;
    this.faults.rejectSendsUntil = Date.now() + ms;
  }

  /** Delays every SendMessage response by `ms` (0 = off); the message is published at once. */
  delayAcks(ms: number): void {
    this.faults.ackDelayMs = ms;
  }

  /**
   * Consumer Acks are held, neither applied nor answered, until `releaseAcks()`: a long ack round trip made
   * visible. `heldAcks` counts them.
   */
  holdAcks(): void {
    this.faults.holdingAcks = true;
  }

  releaseAcks(): void {
    this.faults.releaseAcks();
  }

  get heldAcks(): number {
    return this.faults.heldAcks.length;
  }

  /** Ends every open ReceiveMessages stream with status OK; the consumers stay registered and active. */
  endConsumerStreams(): void {
    for (const consumer of this.broker.consumers.values()) consumer.endStream();
  }

  /** Creates a namespace in the cluster; a no-op when it exists. */
  createNamespace(name: string): void {
    this.cluster.addNamespace(normalizeNamespace(name));
  }

  /**
   * Creates a topic owned by this broker (or `partitions` topics `<name>-part-<i>`), with the checks of
   * CreateProducer auto-creation; throws a BrokerError when one fails.
   */
  createTopic(
    name: string,
    opts: { dispatch?: 'reliable' | 'non_reliable'; partitions?: number; schemaSubject?: string } = {},
  ): void {
    const dispatch = opts.dispatch === 'reliable' ? 'Reliable' : 'NonReliable';
    const names = opts.partitions === undefined ? [name] : Array.from({ length: opts.partitions }, (_, i) => `${name}-part-${i}`);
    for (const topic of names) this.broker.createTopic(topic, dispatch, opts.schemaSubject);
  }

  /** The Reliable topic log (empty for NonReliable topics; without what dropConsumed freed); throws for unknown topics. */
  storedMessages(topic: string): StoredMessage[] {
    const record = this.cluster.topic(topic);
    const live = record && this.cluster.member(record.owner)?.localTopic(topic);
    if (!live) throw new Error(`TestBroker: topic ${topic} is not served by any running broker of this cluster`);
    return (live.log ?? []).flatMap((message, offset) => {
      if (!message) return [];
      const stored: StoredMessage = {
        offset,
        payload: message.payload,
        attributes: { ...message.attributes },
        producerName: message.producer_name,
        producerId: message.msg_id?.producer_id ?? '0',
        requestId: message.request_id,
        publishTime: message.publish_time,
        brokerAddr: message.msg_id?.broker_addr ?? '',
      };
      if (message.routing_key !== undefined) stored.routingKey = message.routing_key;
      if (message.schema_id !== undefined) stored.schemaId = message.schema_id;
      if (message.schema_version !== undefined) stored.schemaVersion = message.schema_version;
      return [stored];
    });
  }

  /**
   * A valid HS256 token for this broker's secret: sub 'test-client', principal_type 'service_account',
   * principal_name = sub, iss 'danube-auth', exp in one hour, each overridable. Throws without `auth`.
   */
  async mintToken(claims: Partial<DanubeJwtClaims> = {}): Promise<string> {
    if (this.jwtSecret === undefined) throw new Error('TestBroker: mintToken needs the auth option');
    const sub = claims.sub ?? 'test-client';
    return mintJwt(this.jwtSecret, {
      iss: 'danube-auth',
      exp: Math.floor(Date.now() / 1000) + 3600,
      sub,
      principal_type: 'service_account',
      principal_name: sub,
      ...claims,
    });
  }
}
