import { ConnectorError } from '@danube-connect/sdk';
import type { MqttConnection } from '@danube-connect/mqtt';
import type { MqttMessage } from './mqtt-message.js';

/** PUBACK / PUBREC reason codes that say the message itself is refused: retrying the same cannot help (MQTT 5 §3.4.2.1). */
const REFUSED_MESSAGE: Record<number, string> = {
  0x90: 'topic name invalid',
  0x95: 'packet too large',
  0x99: 'payload format invalid',
};

interface Pending {
  epoch: number;
  fail(error: Error): void;
}

/** A publish asked for and not sent yet. */
interface Queued {
  readonly message: MqttMessage;
  readonly signal: AbortSignal;
  /** Settles the caller's promise (and drops its abort listener). */
  settle(error?: Error): void;
}

/** Bytes a length takes as an MQTT variable byte integer. */
const varintBytes = (n: number) => (n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4);

/** The PUBLISH packet's size in bytes (MQTT 5 §3.3), to refuse what the broker's Maximum Packet Size would. */
export function publishPacketSize(message: MqttMessage, protocolVersion: 4 | 5): number {
  const utf8 = (s: string) => 2 + Buffer.byteLength(s, 'utf8');
  let body = utf8(message.topic) + (message.options.qos ? 2 : 0) + message.payload.length;
  if (protocolVersion === 5) {
    const p = message.options.properties ?? {};
    let props = 0;
    for (const [k, v] of Object.entries(p.userProperties ?? {})) props += 1 + utf8(k) + utf8(String(v));
    if (p.contentType !== undefined) props += 1 + utf8(p.contentType);
    if (p.responseTopic !== undefined) props += 1 + utf8(p.responseTopic);
    if (p.correlationData !== undefined) props += 1 + 2 + p.correlationData.length;
    if (p.messageExpiryInterval !== undefined) props += 5;
    body += varintBytes(props) + props;
  }
  return 1 + varintBytes(body) + body;
}

/**
 * Publishes on the connector's one MQTT connection and resolves only when the publish completed at its QoS
 * (PUBACK for 1, PUBCOMP for 2, written to the socket for 0). Publishes are pipelined: many may be in flight, up
 * to the broker's Receive Maximum (a client that sends more is disconnected), and go out on the wire in call
 * order, so MQTT's ordering on one connection (MQTT 5 §4.6) keeps each Danube partition's order. A dropped
 * connection fails every publish still in flight on it (retryable): whether the broker got those is unknown, so
 * the runtime writes them again (at-least-once, never an ack for what might be lost).
 */
export class MqttPublisher {
  private readonly pending = new Set<Pending>();
  private receiveMaximum = 65_535;
  private maximumPacketSize: number | undefined;
  /** QoS 1/2 publishes sent and not completed (what Receive Maximum limits). */
  private inFlightQos = 0;
  /**
   * Publishes not sent yet, in call order. Only `pump` takes from it, so PUBLISHes go out in exactly the order they
   * were asked for, across overlapping calls too: the runtime calls a pipelined sink again before the last call's
   * confirmations came (docs/delivery-semantics.md §4.2), and a partition's order depends on this.
   */
  private readonly queue: Queued[] = [];

  constructor(private readonly connection: MqttConnection) {}

  /** A connection came up: its limits apply from now on. */
  connected(receiveMaximum: number, maximumPacketSize: number | undefined): void {
    this.receiveMaximum = Math.max(1, receiveMaximum);
    this.maximumPacketSize = maximumPacketSize;
    this.pump();
  }

  /** The connection of `epoch` went down: its publishes in flight fail (their outcome is unknown). */
  disconnected(epoch: number): void {
    // MQTT.js keeps unconfirmed QoS 1/2 PUBLISHes in its store for the next connection, outside our Receive
    // Maximum count; the runtime's retry is what counts, so they go (kept, the retry after a broker crash in
    // test/ack-after-publish.test.ts took about 6 s instead of under 1 s).
    const client = this.connection.mqttClient;
    for (const id of Object.keys(client?.outgoing ?? {})) client?.removeOutgoingMessage(Number(id));
    for (const p of [...this.pending]) if (p.epoch <= epoch) p.fail(ConnectorError.retryable('MQTT connection lost before the broker confirmed the publish', { code: 'DC_ERR_MQTT_PUBLISH' }));
    this.inFlightQos = 0;
    this.pump();
  }

  /** Publishes in flight (sent, not confirmed). */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Publishes `messages` in order after everything asked for before, pipelined; resolves when all completed,
   * rejects with the first failure (the rest are still settled, never left to reject unobserved). `completed`
   * hears each message (by index) that completed, as it does. `signal` aborts the wait; what was not sent yet then
   * is not sent.
   */
  async publishAll(messages: readonly MqttMessage[], signal: AbortSignal, completed?: (index: number) => void): Promise<void> {
    for (const m of messages) this.checkSize(m);
    const results = await Promise.allSettled(messages.map((m, i) => (completed ? this.enqueue(m, signal).then(() => completed(i)) : this.enqueue(m, signal))));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Throws invalid data (DC_ERR_MQTT_TOO_LARGE) when the PUBLISH would exceed the broker's Maximum Packet Size. */
  checkSize(message: MqttMessage): void {
    if (this.maximumPacketSize === undefined) return;
    const size = publishPacketSize(message, this.connection.version);
    if (size > this.maximumPacketSize) {
      throw ConnectorError.invalidData(`the MQTT PUBLISH to "${message.topic}" would be ${size} bytes, over the broker's maximum packet size of ${this.maximumPacketSize}`, { code: 'DC_ERR_MQTT_TOO_LARGE' });
    }
  }

  private enqueue(message: MqttMessage, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const item: Queued = {
        message,
        signal,
        settle: (error) => {
          signal.removeEventListener('abort', onAbort);
          if (error) reject(error);
          else resolve();
        },
      };
      const onAbort = () => {
        const at = this.queue.indexOf(item);
        if (at < 0) return; // sent already: its own abort handling settles it
        this.queue.splice(at, 1);
        item.settle(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(item);
      this.pump();
    });
  }

  /** Sends from the head of the queue while Receive Maximum allows (QoS 0 needs no slot, but keeps its place). */
  private pump(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0] as Queued;
      const qos = head.message.options.qos ?? 0;
      if (qos > 0 && this.inFlightQos >= this.receiveMaximum) return;
      this.queue.shift();
      if (qos > 0) this.inFlightQos++;
      this.send(head);
    }
  }

  private send({ message, signal, settle: done }: Queued): void {
    const client = this.connection.mqttClient;
    const qos = message.options.qos ?? 0;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (qos > 0 && this.inFlightQos > 0) this.inFlightQos--;
      // Not synchronously: a failure settles inside the publish call, and the next send must not start within it.
      queueMicrotask(() => this.pump());
    };
    if (!client || !this.connection.connected) {
      release();
      return done(ConnectorError.retryable(`MQTT broker not connected (${this.connection.health().detail ?? 'connecting'})`, { code: 'DC_ERR_MQTT_PUBLISH' }));
    }
    const entry: Pending = {
      epoch: this.connection.epoch,
      fail: (error) => settle(error),
    };
    const onAbort = () => settle(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const settle = (error?: Error) => {
      if (!this.pending.delete(entry)) return;
      signal.removeEventListener('abort', onAbort);
      release();
      done(error);
    };
    this.pending.add(entry);
    signal.addEventListener('abort', onAbort, { once: true });
    // A pipelined sink starts its publishes one record at a time: those of one turn leave in one write.
    this.connection.coalesceWrites();
    client.publish(message.topic, message.payload, message.options, (err?: Error & { code?: number }) => {
      if (!err) return settle();
      const code = typeof err.code === 'number' ? err.code : undefined;
      const refused = code === undefined ? undefined : REFUSED_MESSAGE[code];
      if (refused) settle(ConnectorError.invalidData(`the MQTT broker refused the message to "${message.topic}": ${refused} (reason code 0x${code?.toString(16)})`, { code: 'DC_ERR_MQTT_REFUSED', cause: err }));
      // Everything else (not authorized, quota exceeded, a closed connection) may pass: retried.
      else settle(ConnectorError.retryable(`MQTT publish to "${message.topic}" failed: ${err.message}`, { code: 'DC_ERR_MQTT_PUBLISH', cause: err }));
    });
  }
}
