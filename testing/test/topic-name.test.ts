import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { BrokerError } from '../src/broker-error.js';
import { normalizeNamespace, partitionBase, topicNamespace } from '../src/topic-name.js';

describe('topicNamespace (docs/danube-protocol.md §6.1)', () => {
  it.each([
    ['/default/orders', 'default'],
    ['/ns_1/topic-2', 'ns_1'],
    ['/домен/тема', 'домен'],
    ['/ns/٣٤', 'ns'],
    ['//x', ''],
    ['a/b/c', 'b'],
  ])('accepts %s (namespace %s)', (name, namespace) => {
    expect(topicNamespace(name)).toBe(namespace);
  });

  it.each(['/default', '/a/b/c', 'default/x', '/default/a.b', '/default/a:b', '/default/a b', '', '/default/a/'])(
    'rejects %j with INVALID_ARGUMENT',
    (name) => {
      let caught: unknown;
      try {
        topicNamespace(name);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(BrokerError);
      expect((caught as BrokerError).code).toBe(status.INVALID_ARGUMENT);
    },
  );

  it('finds the base of partition names and strips a leading slash from namespaces', () => {
    expect(partitionBase('/default/orders-part-3')).toBe('/default/orders');
    expect(partitionBase('/default/orders')).toBeUndefined();
    expect(normalizeNamespace('/myns')).toBe('myns');
    expect(normalizeNamespace('myns')).toBe('myns');
  });
});
