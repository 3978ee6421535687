import type { ServerWritableStream } from '@grpc/grpc-js';
import type { ReceiveRequestWire, StreamMessageWire } from '@danube-connect/sdk/internal';
import { globToRegExp } from './key-shared-ring.js';

export type DeliveryStream = ServerWritableStream<ReceiveRequestWire, StreamMessageWire>;

/** docs/danube-protocol.md §9.2: 4 messages in the consumer channel plus 4 in the gRPC send queue. */
const CHANNEL_CAPACITY = 4;
const SEND_QUEUE_CAPACITY = 4;

/** What a consumer tells its subscription. */
export interface ConsumerOwner {
  onConsumerLost(consumer: Consumer): void;
  onConsumerActivated(consumer: Consumer): void;
}

/** One ReceiveMessages stream and the writes handed to grpc-js that have not been flushed yet. */
interface Transport {
  stream: DeliveryStream;
  unflushed: number;
}

/**
 * A consumer of one subscription. It is never removed when its client goes away, only marked inactive
 * (docs/danube-protocol.md §9.1); a ReceiveMessages call attaches a stream, and messages dispatched while no stream is
 * attached wait in the channel, as they do in the broker's mpsc channel.
 */
export class Consumer {
  active = true;
  private transport: Transport | undefined;
  private readonly channel: StreamMessageWire[] = [];
  private readonly filters: RegExp[];

  constructor(
    readonly id: string,
    readonly name: string,
    keyFilters: readonly string[],
    private readonly owner: ConsumerOwner,
  ) {
    this.filters = keyFilters.map(globToRegExp);
  }

  get streaming(): boolean {
    return this.transport !== undefined;
  }

  /** KeyShared: a consumer without filters takes every key (docs/danube-protocol.md §9.5). */
  matches(key: string): boolean {
    return this.filters.length === 0 || this.filters.some((filter) => filter.test(key));
  }

  /** ReceiveMessages: the new stream takes over the channel and an older one ends with OK (docs/danube-protocol.md §9.2). */
  attach(stream: DeliveryStream): void {
    this.endStream();
    const transport: Transport = { stream, unflushed: 0 };
    this.transport = transport;
    const lost = (): void => {
      if (this.transport !== transport) return;
      this.transport = undefined;
      this.deactivate();
    };
    stream.on('cancelled', lost);
    stream.on('error', lost);
    stream.on('close', lost);
    const wasActive = this.active;
    this.active = true;
    this.flush();
    if (!wasActive) this.owner.onConsumerActivated(this);
  }

  /** Ends the current stream with status OK; the consumer stays active and keeps its channel. */
  endStream(): void {
    const transport = this.transport;
    if (!transport) return;
    this.transport = undefined;
    transport.stream.end();
  }

  /**
   * The client went away (stream cancelled, connection dropped): inactive, channel emptied. Reliable
   * messages it held are released by the subscription (docs/danube-protocol.md §9.2).
   */
  deactivate(): void {
    this.transport = undefined;
    this.channel.length = 0;
    if (!this.active) return;
    this.active = false;
    this.owner.onConsumerLost(this);
  }

  /** Subscribe with this consumer's name (docs/danube-protocol.md §9.1): old stream ended, channel emptied, active again. */
  takeOver(): void {
    this.endStream();
    this.channel.length = 0;
    this.active = true;
  }

  /**
   * Hands a message to this consumer. `bestEffort` (NonReliable) drops it when the channel is full and
   * returns false; reliable messages are bounded by the subscription window instead.
   */
  offer(message: StreamMessageWire, bestEffort: boolean): boolean {
    if (!this.active) return false;
    const transport = this.transport;
    if (transport && this.channel.length === 0 && transport.unflushed < SEND_QUEUE_CAPACITY) {
      this.write(transport, message);
      return true;
    }
    if (bestEffort && this.channel.length >= CHANNEL_CAPACITY) return false;
    this.channel.push(message);
    return true;
  }

  private write(transport: Transport, message: StreamMessageWire): void {
    transport.unflushed++;
    transport.stream.write(message, () => {
      transport.unflushed--;
      if (this.transport === transport) this.flush();
    });
  }

  private flush(): void {
    const transport = this.transport;
    while (transport && this.channel.length > 0 && transport.unflushed < SEND_QUEUE_CAPACITY) {
      this.write(transport, this.channel.shift() as StreamMessageWire);
    }
  }
}
