import type { DispatchStrategyName, StreamMessageWire } from '@danube-connect/sdk/internal';
import type { Subscription } from './subscription.js';

export type ValidationPolicy = 'none' | 'warn' | 'enforce';

/** A producer attached to a topic on this broker; never removed until the topic goes (docs/danube-protocol.md §8.1). */
export interface Producer {
  readonly id: string;
  readonly name: string;
  readonly topic: BrokerTopic;
}

/**
 * A topic served by this broker: producers by name, subscriptions by name and, for Reliable topics, the
 * log (index = 0-based offset, like the WAL offsets of docs/danube-protocol.md §9.3). Schema settings here are the live
 * topic's (docs/danube-protocol.md §10.3, §10.5); the cluster record holds the metadata copy.
 */
export class BrokerTopic {
  readonly log: StreamMessageWire[] | undefined;
  readonly producers = new Map<string, Producer>();
  readonly subscriptions = new Map<string, Subscription>();
  schemaSubject: string | undefined;
  validationPolicy: ValidationPolicy = 'warn';
  enablePayloadValidation = false;
  closed = false;

  constructor(
    readonly name: string,
    readonly dispatch: DispatchStrategyName,
  ) {
    this.log = dispatch === 'Reliable' ? [] : undefined;
  }

  /**
   * Reliable: append with the next offset, then let every subscription dispatch (the producer is answered
   * after the append, docs/danube-protocol.md §8.2). NonReliable: hand to the subscriptions' consumers right away.
   * The message object is kept as it is (it came off the wire and nobody else holds it).
   */
  publish(message: StreamMessageWire): void {
    const log = this.log;
    if (log) {
      (message.msg_id as { topic_offset: string }).topic_offset = String(log.length);
      log.push(message);
      for (const subscription of this.subscriptions.values()) subscription.dispatch?.pump();
    } else {
      for (const subscription of this.subscriptions.values()) subscription.publish(message);
    }
  }

  close(): void {
    this.closed = true;
    for (const subscription of this.subscriptions.values()) subscription.close();
  }
}
