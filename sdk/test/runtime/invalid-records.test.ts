import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../src/errors.js';
import { textRecord } from '../../src/record.js';
import type { InFlightRecord } from '../../src/runtime/in-flight-record.js';
import { InvalidRecords } from '../../src/runtime/invalid-records.js';
import { uniqueTopic } from '../contract/target.js';
import { startBroker } from '../broker.js';
import { silentLogger, testClient } from './source-fixtures.js';

const entry = (text: string, options: { key?: string; attributes?: Record<string, string> } = {}): InFlightRecord => {
  const record = textRecord('/default/orders', text, options);
  return { seq: 0, record, topic: record.topic, acceptedAt: 0, attempts: 2, outcome: undefined, acked: false };
};
const tooLarge = ConnectorError.invalidData('payload too large', { code: 'DC_ERR_MESSAGE_TOO_LARGE' });

describe('InvalidRecords', () => {
  it('drops when no dead-letter topic is set', async () => {
    const invalid = new InvalidRecords({ client: testClient('http://127.0.0.1:1'), connector: 'conn', deadLetterTopic: undefined, logger: silentLogger });
    expect(await invalid.handle(entry('x'), tooLarge)).toBe('dropped');
  });

  it('dead-letters the payload, key and attributes with dc.errors.* and resolves once Danube has it', async () => {
    const broker = await startBroker();
    const dlq = uniqueTopic('dlq');
    const invalid = new InvalidRecords({ client: testClient(broker.serviceUrl), connector: 'conn', deadLetterTopic: dlq, logger: silentLogger });
    expect(await invalid.handle(entry('bad', { key: 'k', attributes: { origin: 'mqtt' } }), tooLarge)).toBe('dead_lettered');
    const [letter] = broker.storedMessages(dlq);
    expect(letter?.payload.toString()).toBe('bad');
    expect(letter?.routingKey).toBe('k');
    expect(letter?.producerName).toBe('conn-dlq');
    expect(letter?.attributes).toMatchObject({
      origin: 'mqtt',
      'dc.errors.connector': 'conn',
      'dc.errors.topic': '/default/orders',
      'dc.errors.code': 'DC_ERR_MESSAGE_TOO_LARGE',
      'dc.errors.kind': 'invalid_data',
      'dc.errors.message': 'payload too large',
      'dc.errors.attempts': '2',
    });
  });

  it('keeps the evidence without the payload when the dead-letter topic refuses it too; others behind it keep theirs', async () => {
    const broker = await startBroker({ maxMessageSize: 100 });
    const dlq = uniqueTopic('dlq');
    const invalid = new InvalidRecords({ client: testClient(broker.serviceUrl), connector: 'conn', deadLetterTopic: dlq, logger: silentLogger });
    const big = 'b'.repeat(120);
    // Concurrent: the small dead letter queues behind the big one on the dead-letter producer's partition.
    const outcomes = await Promise.all([invalid.handle(entry(big), tooLarge), invalid.handle(entry('small'), tooLarge)]);
    expect(outcomes).toEqual(['dead_lettered', 'dead_lettered']);
    // Dead letters promise no order: each is resent on its own once the partition's queue failed.
    const letters = broker.storedMessages(dlq);
    const omitted = letters.find((m) => m.payload.length === 0);
    const kept = letters.find((m) => m.payload.length > 0);
    expect(letters).toHaveLength(2);
    expect(omitted?.attributes).toMatchObject({ 'dc.errors.payload_omitted': 'too_large', 'dc.errors.payload_bytes': '120' });
    expect(kept?.payload.toString()).toBe('small');
    expect(kept?.attributes['dc.errors.payload_omitted']).toBeUndefined();
  });

  it('rejects with a fatal error when the dead-letter topic cannot exist', async () => {
    const broker = await startBroker();
    const invalid = new InvalidRecords({ client: testClient(broker.serviceUrl), connector: 'conn', deadLetterTopic: '/nowhere/dlq', logger: silentLogger });
    await expect(invalid.handle(entry('x'), tooLarge)).rejects.toMatchObject({ kind: 'fatal', code: 'DC_ERR_NAMESPACE_NOT_FOUND' });
  });
});
