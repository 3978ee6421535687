import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createConnectorLogger } from '../src/logging.js';
import { isSecretKey, maskSecrets, maskUrlCredentials, scrubSecretValues, secretValues } from '../src/secrets.js';

describe('maskSecrets', () => {
  it('masks secret keys at any depth, case-insensitively, and leaves the rest and the input alone', () => {
    const config = { url: 'mqtt://x', Password: 'hunter2', tls: { key: 'PEM', ca: 'ca.pem' }, routes: [{ from: 'a', token: 't' }], empty: { password: '' } };
    expect(maskSecrets(config)).toEqual({ url: 'mqtt://x', Password: '***', tls: { key: '***', ca: 'ca.pem' }, routes: [{ from: 'a', token: '***' }], empty: { password: '' } });
    expect(config.Password).toBe('hunter2');
  });

  it.each([
    'mqtt_password',
    'api_token',
    'accessToken',
    'pwd',
    'private-key',
    'PASSWD',
    'client.secret',
    'aws_secret_access_key',
    'AccessKey',
    'apiKey',
    'x-api-key',
    'passphrase',
    'Authorization',
    'credentials',
    'db_credential',
    'sessionToken',
    'TLS_KEY',
  ])('%s is a secret key', (key) => {
    expect(isSecretKey(key)).toBe(true);
  });

  it.each(['key', 'routing_key', 'keepalive_s', 'url', 'topic', 'max_tokens', 'tokenizer', 'keys', 'partition_key', 'user', 'username'])('%s is not a secret key', (key) => {
    expect(isSecretKey(key)).toBe(false);
  });

  it('masks a bare key only under tls (or ssl): routes[].key is a routing field', () => {
    const config = { routes: [{ from: 'a', key: 'topic' }], tls: { key: 'PEM-TEXT' }, ssl: { Key: 'k' }, nested: { deeper: { tls: { key: 'x' } } } };
    expect(maskSecrets(config)).toEqual({ routes: [{ from: 'a', key: 'topic' }], tls: { key: '***' }, ssl: { Key: '***' }, nested: { deeper: { tls: { key: '***' } } } });
  });

  it('masks secrets at any depth, under arrays and keys in any case', () => {
    const deep = { a: { b: { c: { d: { e: [{ f: { MQTT_PASSWORD: 'pw1', apiToken: 'tok' } }] } } } } };
    expect(JSON.stringify(maskSecrets(deep))).not.toMatch(/pw1|tok"/);
  });

  it('always masks the userinfo of URLs in any string', () => {
    expect(maskUrlCredentials('mqtt://u:PW@h:1883')).toBe('mqtt://u:***@h:1883');
    expect(maskUrlCredentials('connect http://admin:S3cret@broker/x and https://tok3n@host')).toBe('connect http://admin:***@broker/x and https://***@host');
    expect(maskUrlCredentials('mqtt://h:1883 user@example.com')).toBe('mqtt://h:1883 user@example.com');
    expect(maskSecrets({ url: 'mqtt://u:PW@h', list: ['http://admin:S3cret@broker'] })).toEqual({ url: 'mqtt://u:***@h', list: ['http://admin:***@broker'] });
  });

  it("lets a plugin's schema mark a field secret (writeOnly, x-secret) or not (x-secret: false)", () => {
    const schema = {
      type: 'object',
      properties: {
        pin: { type: 'string', writeOnly: true },
        routes: { type: 'array', items: { type: 'object', properties: { hmac: { type: 'string', 'x-secret': true } } } },
        token_endpoint: { type: 'string', 'x-secret': false },
        extra: { $ref: '#/definitions/extra' },
      },
      definitions: { extra: { type: 'object', additionalProperties: { type: 'string', 'x-secret': true } } },
    };
    const config = { pin: '1234', routes: [{ hmac: 'abc', from: 'a' }], token_endpoint: 'https://idp/token', password: 'p', extra: { any: 'v' } };
    expect(maskSecrets(config, schema)).toEqual({ pin: '***', routes: [{ hmac: '***', from: 'a' }], token_endpoint: 'https://idp/token', password: '***', extra: { any: '***' } });
  });
});

describe('secret values', () => {
  it('collects every secret value (name, schema mark, URL password) for scrubbing by value', () => {
    const values = secretValues({ url: 'mqtt://u:urlpass@h', password: 'hunter2', creds: { credentials: { user: 'me-user', pass: 'inner-pw' } }, note: 'plain' });
    expect(values.sort()).toEqual(['hunter2', 'inner-pw', 'me-user', 'urlpass'].sort());
  });

  it('replaces secret values in any text, also JSON-escaped, longest first; short values are left alone', () => {
    const line = JSON.stringify({ msg: 'auth failed for hunter2', stack: 'Error: bad "q\\uote" pass' });
    const scrubbed = scrubSecretValues(line, ['hunter2', 'bad "q\\uote"', 'ab']);
    expect(scrubbed).not.toContain('hunter2');
    expect(JSON.parse(scrubbed)).toEqual({ msg: 'auth failed for ***', stack: 'Error: *** pass' });
    expect(scrubSecretValues('ab cd', ['ab'])).toBe('ab cd');
  });

  it('a secret shorter than 3 characters is collected and replaced where it is a whole JSON string of the line (a field value, an array item), never inside text', () => {
    expect(secretValues({ password: 'ab', api_token: 7, token: '' })).toEqual(['ab', '7']);
    const line = JSON.stringify({ msg: 'ab cd', code: 'ab', list: ['ab', 'abc'], ab: 1, note: 'say "ab", then', n: 7 });
    expect(JSON.parse(scrubSecretValues(line, ['ab', '7']))).toEqual({ msg: 'ab cd', code: '***', list: ['***', 'abc'], ab: 1, note: 'say "ab", then', n: 7 });
  });
});

describe('connector logger', () => {
  const capture = () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).trim().split('\n'));
        done();
      },
    });
    return { lines, sink };
  };

  it('writes NDJSON tagged with the connector and never the secrets', async () => {
    const { lines, sink } = capture();
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

  it('redacts by name segment at any depth and case, URL userinfo anywhere, and known values in messages and stacks', async () => {
    const { lines, sink } = capture();
    const logger = createConnectorLogger({ connector: 'iot' }, 'info', sink, { secrets: ['planted-S3CRET'] });
    logger.info({ a: { b: { c: { MQTT_Password: 'deep-pw-1' } } }, accessToken: 'acc-tok-2', PWD: 'pwd-3' }, 'connecting to mqtt://u:url-pw-4@h');
    logger.child({ api_token: 'child-tok-5' }).warn('bound');
    logger.error({ err: new Error('login refused for planted-S3CRET') }, 'failed with planted-S3CRET');
    const text = lines.join('\n');
    for (const secret of ['deep-pw-1', 'acc-tok-2', 'pwd-3', 'url-pw-4', 'child-tok-5', 'planted-S3CRET']) expect(text).not.toContain(secret);
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['connecting to mqtt://u:***@h', 'bound', 'failed with ***']);
  });
});
