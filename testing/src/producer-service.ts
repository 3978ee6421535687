import type { handleUnaryCall } from '@grpc/grpc-js';
import type {
  DispatchStrategyName,
  MessageResponseWire,
  ProducerRequestWire,
  ProducerResponseWire,
  StreamMessageWire,
} from '@danube-connect/sdk/internal';
import type { Broker } from './broker.js';
import { failedPrecondition, internal, invalidArgument, notFound, permissionDenied, toStatus } from './broker-error.js';
import type { FaultState } from './fault-state.js';
import { unary } from './grpc-handlers.js';
import { randomId } from './random-id.js';
import { schemaRejection } from './schema-validation.js';
import { topicNamespace } from './topic-name.js';

/** Out-of-range enum values arrive as numbers and count as "not specified" (docs/danube-protocol.md §8.1). */
export function dispatchStrategy(value: unknown): DispatchStrategyName | undefined {
  return value === 'Reliable' || value === 'NonReliable' ? value : undefined;
}

/** CreateProducer (docs/danube-protocol.md §8.1, §6.2). */
function createProducer(broker: Broker, request: ProducerRequestWire): ProducerResponseWire {
  const name = request.topic_name;
  topicNamespace(name);
  const dispatch = dispatchStrategy(request.dispatch_strategy);
  const subject = request.schema_ref?.subject || undefined;
  let topic = broker.servedTopic(name);
  if (!topic) {
    if (!broker.config.autoCreateTopics) throw notFound(`Topic ${name} not found`);
    // Auto-creation records the producer's subject in metadata only; the live topic adopts it on a later
    // CreateProducer carrying a schema_ref (docs/danube-protocol.md §8.1 nuance, from code, unconfirmed).
    topic = broker.createTopic(name, dispatch, subject, false);
  } else {
    if (dispatch !== undefined && dispatch !== topic.dispatch) {
      throw failedPrecondition(`The topic ${name} has dispatch strategy ${topic.dispatch}, the producer asked for ${dispatch}`);
    }
    const record = broker.cluster.topic(name);
    if (subject !== undefined && record) {
      if (record.schemaSubject !== undefined && record.schemaSubject !== subject) {
        throw failedPrecondition(`The topic ${name} uses schema subject ${record.schemaSubject}, not ${subject}; only an admin can change it`);
      }
      if (record.schemaSubject === undefined) {
        if (!broker.cluster.schemaRegistry.subject(subject)) {
          throw failedPrecondition(`The schema subject ${subject} is not registered`);
        }
        record.schemaSubject = subject;
      }
      topic.schemaSubject = subject;
    }
  }
  // Idempotent by name: the same producer id for every CreateProducer with this name (docs/danube-protocol.md §8.1).
  let producer = topic.producers.get(request.producer_name);
  if (!producer) {
    producer = { id: randomId(broker.producers), name: request.producer_name, topic };
    topic.producers.set(producer.name, producer);
    broker.producers.set(producer.id, producer);
  }
  return { request_id: request.request_id, producer_id: producer.id, producer_name: producer.name };
}

/** SendMessage, routed by msg_id only, with the checks in the broker's order (docs/danube-protocol.md §8.2). */
function sendMessage(broker: Broker, message: StreamMessageWire, faults: FaultState): MessageResponseWire {
  const msgId = message.msg_id;
  // The broker panics converting such a message; the client sees the call aborted (docs/danube-protocol.md §8.2).
  if (!msgId) throw internal('msg_id is missing: the message cannot be routed');
  const producer = broker.producers.get(msgId.producer_id);
  if (!producer) throw notFound(`Producer with id ${msgId.producer_id} not found on this broker`);
  const limit = broker.config.maxMessageSize;
  if (limit > 0 && message.payload.length > limit) {
    throw invalidArgument(`Message size ${message.payload.length} bytes exceeds the maximum message size of ${limit} bytes`);
  }
  const topic = producer.topic;
  // The broker's texts (docs/danube-protocol.md §8.2): clients sort publish failures by them.
  if (topic.closed) throw permissionDenied(`Unable to publish the message: Topic ${topic.name} is draining or closed; retry lookup/moved`);
  if (msgId.topic_name !== topic.name) {
    throw permissionDenied(`Unable to publish the message: the producer with id ${producer.id} is not attached to topic name: ${msgId.topic_name}`);
  }
  // Injected publish failure (TestBroker.rejectSendsFor): where the broker reports a WAL append error.
  const injected = faults.rejectingSends;
  if (injected !== undefined) throw permissionDenied(`Unable to publish the message: ${injected}`);
  const rejection = schemaRejection(topic, message, broker.cluster.schemaRegistry);
  if (rejection !== undefined) throw permissionDenied(`Unable to publish the message: ${rejection}`);
  topic.publish(message);
  return { request_id: message.request_id };
}

export function producerService(broker: Broker, faults: FaultState): Record<string, unknown> {
  const send: handleUnaryCall<StreamMessageWire, MessageResponseWire> = (call, callback) => {
    let response: MessageResponseWire;
    try {
      response = sendMessage(broker, call.request, faults);
    } catch (err) {
      faults.reply(() => callback(toStatus(err)));
      return;
    }
    faults.reply(() => callback(null, response));
  };
  return {
    CreateProducer: unary<ProducerRequestWire, ProducerResponseWire>((request) => createProducer(broker, request)),
    SendMessage: send,
  };
}
