import { describe, expect, it } from 'vitest';
import { consumerNames } from '../../src/runtime/consumer-names.js';

describe('consumerNames', () => {
  it('derives the name from the connector, keeping only [A-Za-z0-9_-]', () => {
    expect(consumerNames('pg sink.eu/1', [{ topic: '/default/a', subscription: 's' }])).toEqual(['pg-sink-eu-1']);
  });

  it('uses consumerName when given', () => {
    expect(consumerNames('pg', [{ topic: '/default/a', subscription: 's', consumerName: 'pg-host-7' }])).toEqual(['pg-host-7']);
  });

  it('keeps one name across different topics or subscriptions, and suffixes the index where two would take over each other', () => {
    const configs = [
      { topic: '/default/a', subscription: 's' },
      { topic: '/default/b', subscription: 's' },
      { topic: '/default/a', subscription: 't' },
      { topic: '/default/a', subscription: 's' },
      { topic: '/default/b', subscription: 's', consumerName: 'pg' },
    ];
    // The explicit 'pg' on /default/b + s claims the name there, so the derived one moves aside.
    expect(consumerNames('pg', configs)).toEqual(['pg', 'pg-1', 'pg', 'pg-3', 'pg']);
  });

  it('is the same on every call (stable across restarts)', () => {
    const configs = [{ topic: '/default/a', subscription: 's' }, { topic: '/default/a', subscription: 's' }];
    expect(consumerNames('x', configs)).toEqual(consumerNames('x', configs));
  });
});
