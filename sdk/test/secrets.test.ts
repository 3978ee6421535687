import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createConnectorLogger } from '../src/logging.js';
import { maskSecrets } from '../src/secrets.js';

describe('maskSecrets', () => {
  it('masks secret keys at any depth, case-insensitively, and leaves the rest and the input alone', () => {
    const config = { url: 'mqtt://x', Password: 'hunter2', tls: { key: 'PEM', ca: 'ca.pem' }, routes: [{ from: 'a', token: 't' }], empty: { password: '' } };
    expect(maskSecrets(config)).toEqual({ url: 'mqtt://x', Password: '***', tls: { key: '***', ca: 'ca.pem' }, routes: [{ from: 'a', token: '***' }], empty: { password: '' } });
    expect(config.Password).toBe('hunter2');
  });
});

describe('connector logger', () => {
  it('writes NDJSON tagged with the connector and never the secrets', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).trim().split('\n'));
        done();
      },
    });
    const logger = createConnectorLogger({ connector: 'iot', plugin: '@danube-plugin/source-mqtt' }, 'info', sink);
    logger.info({ password: 'hunter2', danube: { token: 'jwt-secret' }, config: { deep: { nested: { api_key: 'k-123' } } } }, 'starting');
    logger.error({ err: new Error('boom') }, 'failed');
    const text = lines.join('\n');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('jwt-secret');
    expect(text).not.toContain('k-123');
    const [first, second] = lines.map((l) => JSON.parse(l));
    expect(first).toMatchObject({ connector: 'iot', plugin: '@danube-plugin/source-mqtt', msg: 'starting', password: '***' });
    expect(second.err).toMatchObject({ type: 'Error', message: 'boom' });
  });
});
