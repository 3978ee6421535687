import { Metadata } from '@grpc/grpc-js';
import type { ServerWritableStream } from '@grpc/grpc-js';
import type {
  AckRequestWire,
  ConsumerRequestWire,
  ConsumerResponseWire,
  NackRequestWire,
  ReceiveRequestWire,
  RequestIdResponseWire,
  StreamMessageWire,
  SubscriptionTypeName,
} from '@danube-connect/sdk/internal';
import type { Broker } from './broker.js';
import { internal, invalidArgument, notFound, permissionDenied } from './broker-error.js';
import type { FaultState } from './fault-state.js';
import { failStream, unary } from './grpc-handlers.js';
import { randomId } from './random-id.js';
import type { Subscription } from './subscription.js';
import { topicNamespace } from './topic-name.js';

const SUBSCRIPTION_TYPES: readonly SubscriptionTypeName[] = ['Exclusive', 'Shared', 'Failover', 'KeyShared'];

/** Subscribe (docs/danube-protocol.md §9.1). */
function subscribe(broker: Broker, request: ConsumerRequestWire): ConsumerResponseWire {
  const name = request.topic_name;
  topicNamespace(name);
  const topic = broker.servedTopic(name);
  if (!topic) throw notFound(`Topic ${name} not found`);
  const existing = topic.subscriptions.get(request.subscription);
  const respond = (id: string): ConsumerResponseWire => ({
    request_id: request.request_id,
    consumer_id: id,
    consumer_name: request.consumer_name,
  });
  if (existing) {
    const same = existing.consumers.get(request.consumer_name);
    if (same) {
      existing.reattach(same);
      return respond(same.id);
    }
    // The type is fixed by the creator; later requests' types are not compared (docs/danube-protocol.md §9.1).
    if (existing.type === 'Exclusive' && existing.consumers.size > 0) {
      throw permissionDenied(
        `Not able to subscribe to the topic ${name}: the Exclusive subscription ${request.subscription} already has a consumer`,
      );
    }
  }
  let subscription: Subscription | undefined = existing;
  if (!subscription) {
    const type = request.subscription_type;
    if (!SUBSCRIPTION_TYPES.includes(type)) throw invalidArgument(`Unknown subscription type ${String(type)}`);
    subscription = broker.subscription(topic, request.subscription, type);
  }
  const id = randomId(broker.consumers);
  broker.consumers.set(id, subscription.addConsumer(id, request.consumer_name, request.key_filters));
  return respond(id);
}

/** ReceiveMessages (docs/danube-protocol.md §9.2): takes over the consumer's channel; the older stream ends with OK. */
function receiveMessages(broker: Broker, call: ServerWritableStream<ReceiveRequestWire, StreamMessageWire>): void {
  const consumer = broker.consumers.get(call.request.consumer_id);
  if (!consumer) {
    failStream(call, notFound(`Consumer with id ${call.request.consumer_id} not found`));
    return;
  }
  // Response headers go out at once, as tonic does when the handler returns the stream.
  call.sendMetadata(new Metadata());
  // A stream opened for an inactive consumer reactivates it (assumed; the document is silent).
  consumer.attach(call);
}

function subscriptionFor(broker: Broker, request: AckRequestWire, action: string): { subscription: Subscription; offset: number } {
  const msgId = request.msg_id;
  if (!msgId) throw internal(`Error ${action} message: msg_id is missing`);
  const topic = broker.localTopic(msgId.topic_name);
  if (!topic) throw internal(`Error ${action} message: topic ${msgId.topic_name} not found on this broker`);
  const subscription = topic.subscriptions.get(request.subscription_name);
  if (!subscription) {
    throw internal(`Error ${action} message: subscription ${request.subscription_name} not found on topic ${topic.name}`);
  }
  return { subscription, offset: Number(msgId.topic_offset) };
}

export function consumerService(broker: Broker, faults: FaultState): Record<string, unknown> {
  // NonReliable subscriptions have no dispatch: ack and nack are accepted no-ops (docs/danube-protocol.md §9.4).
  const ack = unary<AckRequestWire, RequestIdResponseWire>((request) => {
    const { subscription, offset } = subscriptionFor(broker, request, 'acknowledging');
    subscription.dispatch?.ack(offset);
    return { request_id: request.request_id };
  });
  return {
    Subscribe: unary<ConsumerRequestWire, ConsumerResponseWire>((request) => subscribe(broker, request)),
    ReceiveMessages: (call: ServerWritableStream<ReceiveRequestWire, StreamMessageWire>) => receiveMessages(broker, call),
    // TestBroker.holdAcks(): the ack waits, unapplied and unanswered, as if its round trip took that long.
    Ack: ((call, callback) => {
      if (faults.holdingAcks) faults.heldAcks.push(() => ack(call, callback));
      else ack(call, callback);
    }) as typeof ack,
    Nack: unary<NackRequestWire, RequestIdResponseWire>((request) => {
      const { subscription, offset } = subscriptionFor(broker, request, 'negatively acknowledging');
      const delayMs = request.delay_ms === undefined ? undefined : Number(request.delay_ms);
      subscription.dispatch?.nack(offset, delayMs, request.reason);
      return { request_id: request.request_id };
    }),
  };
}
