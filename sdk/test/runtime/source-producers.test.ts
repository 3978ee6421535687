import { describe, expect, it } from 'vitest';
import type { SchemaVersionChoice } from '../../src/danube/producer.js';
import { textRecord } from '../../src/record.js';
import { producerName, SourceProducers } from '../../src/runtime/source-producers.js';
import { uniqueTopic } from '../contract/target.js';
import { startBroker } from '../broker.js';
import { testClient } from './source-fixtures.js';

const OFFLINE = 'http://127.0.0.1:1';

describe('producerName', () => {
  it('derives a stable name from the connector and the topic, with only the characters Danube allows', () => {
    expect(producerName('iot-sensors', '/default/temperature')).toBe('iot-sensors-default-temperature');
    expect(producerName('plant.7 (east)', '/factory/line_1')).toBe('plant-7--east--factory-line_1');
  });
});

describe('SourceProducers', () => {
  it('registers listed topics with derived or explicit names and refuses a topic listed twice', () => {
    const producers = new SourceProducers(testClient(OFFLINE), 'conn', 8);
    const listed = producers.configure([{ topic: '/default/a' }, { topic: '/default/b', name: 'custom' }]);
    expect(listed.map((s) => [s.topic, s.name, s.listed])).toEqual([
      ['/default/a', 'conn-default-a', true],
      ['/default/b', 'custom', true],
    ]);
    expect(() => producers.configure([{ topic: '/default/a', partitions: 2 }])).toThrow(/topic \/default\/a is listed twice/);
    expect(() => producers.configure([{} as never])).toThrow(/every entry needs a topic/);
  });

  it('flags records whose schema subject disagrees with the topic, or that exceed max_message_bytes, as invalid data', () => {
    const producers = new SourceProducers(testClient(OFFLINE), 'conn', 8);
    producers.configure([{ topic: '/default/orders', schema: { subject: 'orders' }, maxMessageBytes: 4 }, { topic: '/default/plain' }]);
    const record = (topic: string, text: string, subject?: string) => ({ ...textRecord(topic, text), ...(subject ? { schema: { subject } } : {}) });

    expect(producers.check(record('/default/orders', 'ok', 'orders'))).toBeUndefined();
    // A record without a subject takes the topic's.
    expect(producers.check(record('/default/orders', 'ok'))).toBeUndefined();
    expect(producers.check(record('/default/orders', 'ok', 'payments'))).toMatchObject({
      kind: 'invalid_data',
      message: 'a record for /default/orders names schema subject "payments", but the topic\'s producer uses schema subject "orders"',
    });
    expect(producers.check(record('/default/plain', 'ok', 'orders'))?.message).toMatch(/the topic's producer uses no schema$/);
    expect(producers.check(record('/default/orders', 'too long'))).toMatchObject({ kind: 'invalid_data', code: 'DC_ERR_MESSAGE_TOO_LARGE' });

    // An unlisted topic takes the schema of its first record.
    expect(producers.check(record('/default/lazy', 'first', 'events'))).toBeUndefined();
    expect(producers.settingsFor(record('/default/lazy', 'x'))).toMatchObject({ listed: false, name: 'conn-default-lazy', schema: { subject: 'events' } });
    expect(producers.check(record('/default/lazy', 'second', 'other'))?.kind).toBe('invalid_data');
  });

  // The wire's publish_time is a uint64 that the producer passes to the encoder as a number: anything else would
  // be truncated or zeroed silently, so it is invalid data (dead-lettered, the stream goes on).
  it.each([1.5, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('flags an eventTime of %s as invalid data, naming it', (eventTime) => {
    const producers = new SourceProducers(testClient(OFFLINE), 'conn', 8);
    producers.configure([{ topic: '/default/t' }]);
    expect(producers.check({ ...textRecord('/default/t', 'x'), eventTime })).toMatchObject({
      kind: 'invalid_data',
      message: `a record for /default/t has eventTime ${eventTime}: it must be whole milliseconds since the epoch (0 to 2^53 - 1)`,
    });
    expect(producers.check({ ...textRecord('/default/t', 'x'), eventTime: 1_700_000_000_123 })).toBeUndefined();
    expect(producers.check({ ...textRecord('/default/t', 'x'), eventTime: 0 })).toBeUndefined();
  });

  it('flags a record whose schema version disagrees with the version the topic\'s producer stamps (it would carry another version than it claims)', () => {
    const producers = new SourceProducers(testClient(OFFLINE), 'conn', 8);
    producers.configure([
      { topic: '/default/latest', schema: { subject: 'orders' } },
      { topic: '/default/pinned', schema: { subject: 'orders', version: { pinned: 2 } } },
    ]);
    const record = (topic: string, version?: SchemaVersionChoice) => ({ ...textRecord(topic, '{}'), schema: { subject: 'orders', ...(version === undefined ? {} : { version }) } });
    // No version named, or the same choice (absent = "latest"): fine.
    expect(producers.check(record('/default/latest'))).toBeUndefined();
    expect(producers.check(record('/default/latest', 'latest'))).toBeUndefined();
    expect(producers.check(record('/default/pinned', { pinned: 2 }))).toBeUndefined();
    expect(producers.check(record('/default/pinned'))).toBeUndefined();
    expect(producers.check(record('/default/latest', { pinned: 1 }))).toMatchObject({
      kind: 'invalid_data',
      message: 'a record for /default/latest names version {"pinned":1} of schema subject "orders", but the topic\'s producer uses version "latest"',
    });
    expect(producers.check(record('/default/pinned', { min: 1 }))?.kind).toBe('invalid_data');
  });

  it('creates producers with one attempt each, with the settings and derived names, and closes them', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('sp');
    const producers = new SourceProducers(testClient(broker.serviceUrl), 'conn', 8);
    producers.configure([{ topic, partitions: 2 }]);
    const producer = await producers.create(topic);
    expect(producer).toMatchObject({ name: `conn-${topic.slice(1).replace('/', '-')}`, partitions: 2, ordering: 'partition' });
    await producer.send('x', { key: 'k' });
    const stored = [0, 1].flatMap((p) => broker.storedMessages(`${topic}-part-${p}`));
    expect(stored.map((m) => m.producerName)).toEqual([expect.stringMatching(new RegExp(`^${producer.name}-[01]$`))]);

    // One attempt: an unavailable broker fails the call at once, for the runtime to retry.
    const other = uniqueTopic('sp');
    producers.settingsFor(textRecord(other, 'x'));
    broker.unavailableFor(60_000);
    await expect(producers.create(other)).rejects.toMatchObject({ code: 'DC_ERR_UNAVAILABLE', retryable: true });
    await producers.closeAll(100);
    await expect(producer.send('late')).rejects.toMatchObject({ code: 'DC_ERR_CLOSED' });
  });
});
