import type { TopicLookupRequestWire, TopicLookupResponseWire, TopicPartitionsResponseWire } from '@danube-connect/sdk/internal';
import type { Broker } from './broker.js';
import { notFound } from './broker-error.js';
import { unary } from './grpc-handlers.js';
import { topicNamespace } from './topic-name.js';

/** TopicLookup (docs/danube-protocol.md §7.1): Connect here, Redirect to the owner, NOT_FOUND (never Failed) otherwise. */
function lookup(broker: Broker, request: TopicLookupRequestWire): TopicLookupResponseWire {
  topicNamespace(request.topic);
  const record = broker.cluster.topic(request.topic);
  const owner = record && broker.cluster.member(record.owner);
  if (!owner) throw notFound(`Topic ${request.topic} not found`);
  return {
    request_id: request.request_id,
    response_type: owner === broker ? 'Connect' : 'Redirect',
    broker_url: owner.brokerUrl,
    connect_url: owner.connectUrl,
    proxy: owner.brokerUrl !== owner.connectUrl,
  };
}

/**
 * TopicPartitions (docs/danube-protocol.md §6.3): [name] when that topic exists, else every topic starting with the name
 * (a raw prefix match), sorted lexicographically; an empty list is still OK.
 */
function partitions(broker: Broker, request: TopicLookupRequestWire): TopicPartitionsResponseWire {
  topicNamespace(request.topic);
  const base = request.topic;
  const list = broker.cluster.topic(base)
    ? [base]
    : broker.cluster
        .topicNames()
        .filter((name) => name.startsWith(base))
        .sort();
  return { request_id: request.request_id, partitions: list };
}

export function discoveryService(broker: Broker): Record<string, unknown> {
  return {
    TopicLookup: unary<TopicLookupRequestWire, TopicLookupResponseWire>((request) => lookup(broker, request)),
    TopicPartitions: unary<TopicLookupRequestWire, TopicPartitionsResponseWire>((request) => partitions(broker, request)),
  };
}
