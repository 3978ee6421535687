import type { StreamMessageWire, SubscriptionTypeName } from '@danube-connect/sdk/internal';
import { Consumer } from './consumer.js';
import type { ConsumerOwner } from './consumer.js';
import type { FailurePolicy } from './failure-policy.js';
import { KeySharedRing } from './key-shared-ring.js';
import { ReliableDispatch } from './reliable-dispatch.js';
import type { DispatchTarget } from './reliable-dispatch.js';

/** Publishes a dead-letter copy; supplied by the broker, which knows where the DLQ topic lives. */
export type DeadLetterSink = (topic: string, message: StreamMessageWire) => void;

export interface SubscriptionOptions {
  topic: string;
  name: string;
  type: SubscriptionTypeName;
  /** The topic log when the topic is Reliable, undefined for NonReliable. */
  log: readonly (StreamMessageWire | undefined)[] | undefined;
  policy: FailurePolicy;
  maxUnackedMessages: number;
  liveTailCapacity?: number | undefined;
  deadLetter: DeadLetterSink;
}

/**
 * A subscription of one topic: its consumers (kept in attach order, never removed) and how messages are
 * spread over them (docs/danube-protocol.md §9.5). Reliable topics add a ReliableDispatch; NonReliable messages are
 * handed over best-effort and lost when no consumer can take them.
 */
export class Subscription implements ConsumerOwner, DispatchTarget {
  readonly topic: string;
  readonly name: string;
  /** Fixed by whoever created the subscription (docs/danube-protocol.md §9.1). */
  readonly type: SubscriptionTypeName;
  readonly consumers = new Map<string, Consumer>();
  readonly dispatch: ReliableDispatch | undefined;
  readonly keyed: boolean;
  readonly blocksOnPoison: boolean;
  private ring: KeySharedRing<Consumer> | undefined;
  private readonly deadLetterSink: DeadLetterSink;
  private activeCache: Consumer[] | undefined;
  private roundRobin = 0;

  constructor(options: SubscriptionOptions) {
    this.topic = options.topic;
    this.name = options.name;
    this.type = options.type;
    this.keyed = options.type === 'KeyShared';
    this.blocksOnPoison = !this.keyed;
    this.ring = this.keyed ? new KeySharedRing<Consumer>() : undefined;
    this.deadLetterSink = options.deadLetter;
    this.dispatch = options.log
      ? new ReliableDispatch(options.log, this, options.policy, options.maxUnackedMessages, options.liveTailCapacity)
      : undefined;
  }

  addConsumer(id: string, name: string, keyFilters: readonly string[]): Consumer {
    const consumer = new Consumer(id, name, keyFilters, this);
    this.consumers.set(name, consumer);
    this.ring?.add(consumer);
    this.changed();
    return consumer;
  }

  /** Subscribe with an existing consumer name: takeover, in-flight messages redelivered at once (docs/danube-protocol.md §9.1). */
  reattach(consumer: Consumer): void {
    consumer.takeOver();
    this.dispatch?.release(consumer);
    this.changed();
  }

  hasActiveConsumer(): boolean {
    return this.activeConsumers().length > 0;
  }

  /** NonReliable publish: best effort to the chosen consumer, dropped when none or its channel is full. */
  publish(message: StreamMessageWire): void {
    const consumer = this.pick(message);
    if (consumer !== null && consumer !== 'skip') consumer.offer(message, true);
  }

  pick(message: StreamMessageWire): Consumer | null | 'skip' {
    const active = this.activeConsumers();
    switch (this.type) {
      case 'Exclusive':
      case 'Failover':
        // Failover uses the exclusive dispatcher: the earliest attached active consumer gets everything.
        // Moving to a standby when it goes away is what we implement; the document could not confirm
        // the switch in the broker code (docs/danube-protocol.md §9.5, unconfirmed).
        return active[0] ?? null;
      case 'Shared': {
        if (active.length === 0) return null;
        this.roundRobin = (this.roundRobin + 1) % active.length;
        return active[this.roundRobin] as Consumer;
      }
      case 'KeyShared': {
        const key = message.routing_key ?? message.producer_name;
        let anyMatch = false;
        for (const consumer of this.consumers.values()) {
          if (consumer.matches(key)) {
            anyMatch = true;
            break;
          }
        }
        if (!anyMatch) return 'skip';
        // A key whose matching consumers are all inactive waits (Reliable) rather than being skipped:
        // the document only says messages matching *no* consumer are skipped.
        return this.ring?.lookup(key, (c) => c.active && c.matches(key)) ?? null;
      }
    }
  }

  deadLetter(message: StreamMessageWire, deliveries: number, reason: string | undefined): void {
    const dlqTopic = this.dispatch?.policy.deadLetterTopic;
    // SetSubscriptionFailurePolicy refuses DeadLetter without a topic; a TestBroker option can still say so,
    // and then the message is dropped.
    if (!dlqTopic || !message.msg_id) return;
    const original = message.msg_id;
    const attributes: Record<string, string> = {
      ...message.attributes,
      'x-original-topic': original.topic_name,
      'x-original-subscription': this.name,
      'x-original-topic-offset': original.topic_offset,
      'x-original-producer-id': original.producer_id,
      'x-original-broker-addr': original.broker_addr,
      // Attribute values are not spelled out in the document; snake_case as in the admin CLI (unconfirmed).
      'x-poison-policy': 'dead_letter',
      'x-delivery-attempt': String(deliveries),
    };
    if (reason !== undefined) attributes['x-failure-reason'] = reason;
    const copy: StreamMessageWire = {
      ...message,
      msg_id: { producer_id: '0', topic_name: dlqTopic, broker_addr: original.broker_addr, topic_offset: '0' },
      attributes,
    };
    this.deadLetterSink(dlqTopic, copy);
  }

  onConsumerLost(consumer: Consumer): void {
    this.dispatch?.release(consumer);
    this.changed();
  }

  onConsumerActivated(): void {
    this.changed();
  }

  /** TestBroker.restart(): consumers are forgotten, unacked messages wait for the next consumer. */
  forgetConsumers(): void {
    for (const consumer of this.consumers.values()) consumer.deactivate();
    this.consumers.clear();
    if (this.ring) this.ring = new KeySharedRing<Consumer>();
    this.dispatch?.releaseAll();
    this.changed();
  }

  /** Topic deleted or broker stopped: streams end with OK, timers stop. */
  close(): void {
    this.dispatch?.close();
    for (const consumer of this.consumers.values()) {
      consumer.endStream();
      consumer.active = false;
    }
  }

  private activeConsumers(): Consumer[] {
    if (this.activeCache) return this.activeCache;
    const active: Consumer[] = [];
    for (const consumer of this.consumers.values()) if (consumer.active) active.push(consumer);
    this.activeCache = active;
    return active;
  }

  private changed(): void {
    this.activeCache = undefined;
    this.dispatch?.pump();
  }
}
