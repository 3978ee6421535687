import { describe, expect, it } from 'vitest';
import type { ConnectorError } from '../../src/errors.js';
import { textRecord } from '../../src/record.js';
import type { InFlightRecord } from '../../src/runtime/in-flight-record.js';
import { SourceProducers } from '../../src/runtime/source-producers.js';
import { TopicPublisher } from '../../src/runtime/topic-publisher.js';
import type { TestBroker } from '@danube-connect/testing';
import { uniqueTopic } from '../contract/target.js';
import { startBroker } from '../broker.js';
import { Condition, range, storedTexts, testClient } from './source-fixtures.js';

interface Harness {
  publisher: TopicPublisher;
  publish(...texts: string[]): void;
  published: string[];
  invalid: Array<[string, string]>;
  fatal: ConnectorError[];
  /** 'unavailable <code>', 'available', 'failed <code>', 'retrying <n>', in order. */
  events: string[];
  changed: Condition;
  abort: AbortController;
}

function harness(broker: TestBroker, topic: string, options: { lazy?: boolean; listed?: boolean } = {}): Harness {
  const producers = new SourceProducers(testClient(broker.serviceUrl), 'conn', 64);
  if (options.listed !== false) producers.configure([{ topic }]);
  else producers.settingsFor(textRecord(topic, ''));
  const published: string[] = [];
  const invalid: Array<[string, string]> = [];
  const fatal: ConnectorError[] = [];
  const events: string[] = [];
  const changed = new Condition();
  const abort = new AbortController();
  const push = <T>(list: T[], item: T) => {
    list.push(item);
    changed.notify();
  };
  const text = (entry: InFlightRecord) => entry.record.payload.toString();
  const publisher = new TopicPublisher({
    topic,
    create: () => producers.create(topic),
    lazy: options.lazy ?? false,
    deadLetterWhenExhausted: false,
    settings: { maxRetries: 1, retryInitialDelayMs: 10, retryMaxDelayMs: 50, onRetryExhausted: 'fail' },
    signal: abort.signal,
    events: {
      published: (entry) => push(published, text(entry)),
      invalid: (entry, error) => push(invalid, [text(entry), String(error.code)]),
      fatal: (error) => push(fatal, error),
      failed: (_topic, code) => push(events, `failed ${code}`),
      retrying: (_topic, count) => push(events, `retrying ${count}`),
      unavailable: (_topic, error) => push(events, `unavailable ${error.code}`),
      blocked: (_topic, error) => push(events, `blocked ${error.code}`),
      retired: () => push(events, 'retired'),
      available: () => {
        if (events.at(-1) !== 'available') push(events, 'available');
      },
    },
  });
  let seq = 0;
  return {
    publisher,
    published,
    invalid,
    fatal,
    events,
    changed,
    abort,
    publish(...texts) {
      for (const t of texts) {
        publisher.publish({ seq: seq++, record: textRecord(topic, t), topic, acceptedAt: 0, attempts: 0, outcome: undefined, acked: false });
      }
    },
  };
}

describe('TopicPublisher', () => {
  it('publishes in acceptance order; a record the broker refuses is invalid, the ones queued behind it are sent again in order', async () => {
    const broker = await startBroker({ maxMessageSize: 100 });
    const topic = uniqueTopic('tp');
    const h = harness(broker, topic);
    const big = 'z'.repeat(101);
    h.publish('a', big, 'b', 'c');
    await h.changed.until(() => h.published.length + h.invalid.length === 4);
    expect(h.published).toEqual(['a', 'b', 'c']);
    expect(h.invalid).toEqual([[big, 'DC_ERR_MESSAGE_TOO_LARGE']]);
    expect(storedTexts(broker, topic)).toEqual(['a', 'b', 'c']);
    // Only the oversize record failed on its own account; b and c were sent again, no backoff needed.
    expect(h.events).toEqual(['available', 'failed DC_ERR_MESSAGE_TOO_LARGE', 'retrying 2', 'available']);
  });

  it('retries forever while Danube is unavailable, whatever the policy, and keeps the order', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('tp');
    const h = harness(broker, topic);
    await h.publisher.firstAttempt;
    broker.unavailableFor(60_000);
    h.publish(...range(10));
    const failures = () => h.events.filter((e) => e === 'failed DC_ERR_UNAVAILABLE').length;
    // maxRetries is 1 and the policy 'fail': Danube being unavailable outlasts both. The outage ends on that
    // event, not after a time in which a loaded machine may make fewer attempts.
    await h.changed.until(() => failures() > 2);
    broker.unavailableFor(0);
    await h.changed.until(() => h.published.length === 10);
    expect(storedTexts(broker, topic)).toEqual(range(10));
    expect(h.events).toContain('unavailable DC_ERR_UNAVAILABLE');
    expect(h.events.at(-1)).toBe('available');
    expect(h.fatal).toEqual([]);
  });

  it('keeps records queued while the producer cannot be created, then sends them', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('tp');
    broker.unavailableFor(60_000);
    const h = harness(broker, topic);
    h.publish('a', 'b');
    await h.publisher.firstAttempt;
    expect(h.events.slice(0, 2)).toEqual(['failed DC_ERR_UNAVAILABLE', 'unavailable DC_ERR_UNAVAILABLE']);
    broker.unavailableFor(0);
    await h.changed.until(() => h.published.length === 2);
    expect(h.published).toEqual(['a', 'b']);
  });

  it('a missing namespace is fatal; a lazily used topic with an invalid name makes its records invalid', async () => {
    const broker = await startBroker();
    const missing = harness(broker, '/nowhere/t');
    missing.publish('a');
    await missing.changed.until(() => missing.fatal.length > 0);
    expect(missing.fatal[0]).toMatchObject({ kind: 'fatal', code: 'DC_ERR_NAMESPACE_NOT_FOUND' });
    expect(missing.published).toEqual([]);

    const bad = harness(broker, '/default/no spaces', { lazy: true, listed: false });
    bad.publish('a');
    await bad.publisher.firstAttempt;
    bad.publish('b');
    expect(bad.invalid).toEqual([
      ['a', 'DC_ERR_INVALID_TOPIC'],
      ['b', 'DC_ERR_INVALID_TOPIC'],
    ]);
    expect(bad.fatal).toEqual([]);
  });

  it('stops retrying when its signal aborts: the records stay unpublished', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('tp');
    const h = harness(broker, topic);
    await h.publisher.firstAttempt;
    broker.unavailableFor(60_000);
    h.publish('a');
    await h.changed.until(() => h.events.includes('unavailable DC_ERR_UNAVAILABLE'));
    h.abort.abort();
    h.publisher.close();
    expect(h.publisher.sending).toBe(0);
    expect(h.published).toEqual([]);
  });
});
