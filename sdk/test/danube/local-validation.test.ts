import { describe, expect, it } from 'vitest';
import { parseBrokerUrl } from '../../src/danube/broker-url.js';
import { DanubeClient } from '../../src/danube/danube-client.js';
import { partitionIndex, partitionTopic, validateTopicName } from '../../src/danube/topic-name.js';

// Bad input that can be checked locally fails before anything is sent: no broker runs in this file.
describe('topic names', () => {
  it.each(['/default/t1', '/ns_1/topic-A', '/default/温度'])('accepts %s', (name) => {
    expect(() => validateTopicName(name)).not.toThrow();
  });

  it.each([
    ['', 'empty'],
    ['default/t1', 'no leading slash'],
    ['/default', 'no topic part'],
    ['/default/a/b', 'too many parts'],
    ['//t1', 'empty namespace'],
    ['/default/a.b', 'a dot'],
    ['/default/a b', 'a space'],
    ['/default/a:b', 'a colon'],
  ])('rejects %j (%s) with DC_ERR_INVALID_TOPIC naming it', (name) => {
    expect(() => validateTopicName(name)).toThrow(expect.objectContaining({ code: 'DC_ERR_INVALID_TOPIC', retryable: false }));
  });

  it('names and parses partition topics as the broker does', () => {
    expect(partitionTopic('/default/orders', 10)).toBe('/default/orders-part-10');
    expect(partitionIndex('/default/orders-part-10')).toBe(10);
    expect(partitionIndex('/default/orders')).toBeUndefined();
  });
});

describe('broker URLs', () => {
  it('strips the scheme for dialling and remembers TLS', () => {
    expect(parseBrokerUrl('http://127.0.0.1:6650')).toMatchObject({ target: '127.0.0.1:6650', secure: false });
    expect(parseBrokerUrl('https://broker.local:6650')).toMatchObject({ target: 'broker.local:6650', secure: true });
    expect(parseBrokerUrl('127.0.0.1:6650')).toMatchObject({ target: '127.0.0.1:6650', secure: false });
    expect(parseBrokerUrl('http://[::1]:6650')).toMatchObject({ target: '[::1]:6650' });
  });

  it.each(['', 'http://127.0.0.1', 'ftp://host:1', 'http://host:6650/path', 'http://:6650', 'not a url at all'])(
    'rejects %j with DC_ERR_INVALID_URL',
    (url) => {
      expect(() => parseBrokerUrl(url)).toThrow(expect.objectContaining({ code: 'DC_ERR_INVALID_URL' }));
    },
  );
});

describe('DanubeClient construction', () => {
  it('rejects a bad service URL', () => {
    expect(() => new DanubeClient({ serviceUrl: 'http://127.0.0.1' })).toThrow(/Danube service URL "http:\/\/127.0.0.1" is invalid: the port is missing/);
  });

  it('rejects an unreadable TLS file, naming it', () => {
    expect(() => new DanubeClient({ serviceUrl: 'https://127.0.0.1:6650', tls: { ca: '/nonexistent/ca.pem' } })).toThrow(
      expect.objectContaining({ code: 'DC_ERR_TLS_FILE', message: expect.stringContaining('/nonexistent/ca.pem') }),
    );
  });

  it('rejects a client certificate without its key', () => {
    expect(() => new DanubeClient({ serviceUrl: 'https://127.0.0.1:6650', tls: { cert: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----' } })).toThrow(
      expect.objectContaining({ code: 'DC_ERR_TLS_FILE' }),
    );
  });

  it('rejects bad producer options before any RPC', async () => {
    const client = new DanubeClient({ serviceUrl: 'http://127.0.0.1:1' });
    try {
      await expect(client.createProducer({ topic: '/default/t', name: 'bad name' })).rejects.toMatchObject({ code: 'DC_ERR_INVALID_OPTION' });
      await expect(client.createProducer({ topic: 'default/t', name: 'p' })).rejects.toMatchObject({ code: 'DC_ERR_INVALID_TOPIC' });
      await expect(client.createProducer({ topic: '/default/t-part-1', name: 'p', partitions: 2 })).rejects.toMatchObject({ code: 'DC_ERR_INVALID_TOPIC' });
      await expect(client.createProducer({ topic: '/default/t', name: 'p', maxInFlight: 0 })).rejects.toMatchObject({ code: 'DC_ERR_INVALID_OPTION' });
      await expect(client.subscribe({ topic: '/default/t', name: 'c', subscription: 's/1' })).rejects.toMatchObject({ code: 'DC_ERR_INVALID_OPTION' });
    } finally {
      await client.close();
    }
  });
});

describe('request deadlines', () => {
  it.each([1e15, 2 ** 31, Number.POSITIVE_INFINITY])('refuses requestTimeoutMs = %d with a DanubeError at construction (gRPC cannot set that deadline)', (requestTimeoutMs) => {
    expect(() => new DanubeClient({ serviceUrl: 'http://127.0.0.1:6650', requestTimeoutMs })).toThrow(
      expect.objectContaining({ name: 'DanubeError', code: 'DC_ERR_INVALID_OPTION', retryable: false, message: expect.stringContaining('requestTimeoutMs must be at most 2147483647') }),
    );
  });
});
