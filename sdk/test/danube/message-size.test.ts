import { describe, expect, it, onTestFinished } from 'vitest';
import { DanubeClient } from '../../src/danube/danube-client.js';
import { uniqueName, uniqueTopic } from '../contract/target.js';
import { startBroker } from '../broker.js';

// A message over the client's gRPC message limit (docs/danube-protocol.md §2.6) can never be sent: it is bad data, not a busy
// broker, on either transport.
describe.each(['grpc-js', 'http2'] as const)('a message over the client gRPC limit (%s)', (transport) => {
  it('fails at once with DC_ERR_MESSAGE_TOO_LARGE, not retried, and nothing is stored', async () => {
    const broker = await startBroker();
    const client = new DanubeClient({
      serviceUrl: broker.serviceUrl,
      transport,
      channelOptions: { 'grpc.max_send_message_length': 4096 },
      retry: { deadlineMs: 2_000, initialDelayMs: 20, maxDelayMs: 100 },
    });
    onTestFinished(() => client.close(1_000));
    const topic = uniqueTopic('oversized');
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    await expect(producer.send(Buffer.alloc(8192))).rejects.toMatchObject({ code: 'DC_ERR_MESSAGE_TOO_LARGE', retryable: false });
    await expect(producer.send('small')).resolves.toMatchObject({ topic });
    expect(broker.storedMessages(topic).map((m) => m.payload.toString())).toEqual(['small']);
  });
});

// Over the broker's own decode limit (4 MiB, docs/danube-protocol.md §2.6) but under the client's (16 MiB): the broker
// answers OUT_OF_RANGE (as tonic does; TestBroker follows it), which is bad data too.
describe.each(['grpc-js', 'http2'] as const)("a message over the broker's 4 MiB decode limit (%s)", (transport) => {
  it('fails at once with DC_ERR_MESSAGE_TOO_LARGE, not retried, and the next message goes through', async () => {
    const broker = await startBroker();
    const client = new DanubeClient({ serviceUrl: broker.serviceUrl, transport, retry: { deadlineMs: 2_000, initialDelayMs: 20, maxDelayMs: 100 } });
    onTestFinished(() => client.close(1_000));
    const topic = uniqueTopic('over-decode-limit');
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    await expect(producer.send(Buffer.alloc(4 * 1024 * 1024 + 1))).rejects.toMatchObject({ code: 'DC_ERR_MESSAGE_TOO_LARGE', retryable: false });
    await expect(producer.send('small')).resolves.toMatchObject({ topic });
  });
});
