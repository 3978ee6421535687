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
  /** Offsets below `dropped` hold undefined once dropConsumed freed them. */
  readonly log: (StreamMessageWire | undefined)[] | undefined;
  private dropped = 0;
  readonly producers = new Map<string, Producer>();
  readonly subscriptions = new Map<string, Subscription>();
  schemaSubject: string | undefined;
  validationPolicy: ValidationPolicy = 'warn';
  enablePayloadValidation = false;
  closed = false;

  constructor(
    readonly name: string,
    readonly dispatch: DispatchStrategyName,
    /** TestBrokerOptions.dropConsumed. */
    private readonly dropConsumed = false,
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
      if (this.dropConsumed) this.dropUnreadable(log);
    } else {
      for (const subscription of this.subscriptions.values()) subscription.publish(message);
    }
  }

  /**
   * Frees the messages below every subscription's first unacked offset. No one can read them any more: a
   * subscription resumes from its cursor, and a new one starts at the topic's end (docs/danube-protocol.md §9.4).
   * Called on publish, so what acks free goes with the next message.
   */
  private dropUnreadable(log: (StreamMessageWire | undefined)[]): void {
    let keepFrom = log.length;
    for (const subscription of this.subscriptions.values()) {
      if (subscription.dispatch) keepFrom = Math.min(keepFrom, subscription.dispatch.firstUnacked);
    }
    for (; this.dropped < keepFrom; this.dropped++) log[this.dropped] = undefined;
  }

  close(): void {
    this.closed = true;
    for (const subscription of this.subscriptions.values()) subscription.close();
  }
}
