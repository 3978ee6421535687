import { describe, expect, it } from 'vitest';
import { DanubeError } from '../src/danube/errors.js';
import { classify, ConnectorError } from '../src/errors.js';

describe('ConnectorError', () => {
  it('has factories per kind with default codes, keeping the cause', () => {
    const cause = new Error('socket closed');
    expect(ConnectorError.retryable('down', { cause })).toMatchObject({ kind: 'retryable', code: 'DC_ERR_CONNECTOR_RETRYABLE', cause });
    expect(ConnectorError.invalidData('bad json')).toMatchObject({ kind: 'invalid_data', code: 'DC_ERR_CONNECTOR_INVALID_DATA' });
    expect(ConnectorError.fatal('no credentials', { code: 'MQTT_NOT_AUTHORIZED' })).toMatchObject({ kind: 'fatal', code: 'MQTT_NOT_AUTHORIZED' });
    expect(ConnectorError.fatal('x').name).toBe('ConnectorError');
  });
});

describe('classify', () => {
  it('passes ConnectorErrors through, including ones from another copy of the SDK (by shape)', () => {
    const own = ConnectorError.invalidData('x');
    expect(classify(own)).toBe(own);
    const foreign = Object.assign(new Error('y'), { name: 'ConnectorError', kind: 'fatal', code: 'PLUGIN_X' });
    expect(classify(foreign)).toBe(foreign);
  });

  it('maps Danube errors: retryable stays retryable, refused payloads are invalid data, the rest is fatal', () => {
    const make = (code: DanubeError['code'], retryable: boolean) => new DanubeError(code, { code, retryable });
    expect(classify(make('DC_ERR_UNAVAILABLE', true))).toMatchObject({ kind: 'retryable', code: 'DC_ERR_UNAVAILABLE' });
    expect(classify(make('DC_ERR_MESSAGE_TOO_LARGE', false))).toMatchObject({ kind: 'invalid_data', code: 'DC_ERR_MESSAGE_TOO_LARGE' });
    expect(classify(make('DC_ERR_PAYLOAD_INVALID', false))).toMatchObject({ kind: 'invalid_data', code: 'DC_ERR_PAYLOAD_INVALID' });
    // Refusals not about the payload are retried, never dropped (docs/danube-protocol.md §8.2).
    for (const code of ['DC_ERR_TOPIC_MOVED', 'DC_ERR_SCHEMA_CONFIG', 'DC_ERR_BROKER_CONFIG', 'DC_ERR_PUBLISH_FAILED'] as const) {
      expect(classify(make(code, true)), code).toMatchObject({ kind: 'retryable', code });
    }
    expect(classify(make('DC_ERR_NAMESPACE_NOT_FOUND', false))).toMatchObject({ kind: 'fatal', code: 'DC_ERR_NAMESPACE_NOT_FOUND' });
    expect(classify(make('DC_ERR_UNAUTHENTICATED', false)).kind).toBe('fatal');
  });

  it('treats transient network errors as retryable', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']) {
      expect(classify(Object.assign(new Error(code), { code })).kind).toBe('retryable');
    }
  });

  it('treats unparsable input as invalid data and plugin bugs as fatal', () => {
    let parseError: unknown;
    try {
      JSON.parse('{nope');
    } catch (err) {
      parseError = err;
    }
    expect(classify(parseError).kind).toBe('invalid_data');
    expect(classify(new TypeError("Cannot read properties of undefined (reading 'x')"))).toMatchObject({ kind: 'fatal', code: 'DC_ERR_CONNECTOR_BUG' });
    expect(classify(new ReferenceError('x is not defined')).kind).toBe('fatal');
  });

  it('retries anything else rather than dropping it, and accepts non-Error values', () => {
    expect(classify(new Error('HTTP 503'))).toMatchObject({ kind: 'retryable', code: 'DC_ERR_CONNECTOR_UNKNOWN', message: 'HTTP 503' });
    expect(classify('a string')).toMatchObject({ kind: 'retryable', message: 'a string' });
  });
});
