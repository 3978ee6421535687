import { Metadata, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { DanubeError, fromGrpcError } from '../../src/danube/errors.js';

function grpcError(code: status, details: string) {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: new Metadata() });
}

describe('fromGrpcError (docs/danube-protocol.md §12)', () => {
  it('maps a missing namespace to DC_ERR_NAMESPACE_NOT_FOUND, names it, and does not retry', () => {
    const err = fromGrpcError(grpcError(status.UNAVAILABLE, 'Unable to find the namespace nope'), {
      rpc: 'CreateProducer',
      topic: '/nope/t',
      producer: 'p1',
    });
    expect(err).toBeInstanceOf(DanubeError);
    expect(err.code).toBe('DC_ERR_NAMESPACE_NOT_FOUND');
    expect(err.retryable).toBe(false);
    expect(err.grpcStatus).toBe(status.UNAVAILABLE);
    expect(err.message).toContain('namespace "nope" does not exist');
    expect(err.message).toContain('CreateProducer, topic /nope/t, producer p1');
  });

  it.each([
    [status.UNAVAILABLE, 'connection refused', 'DC_ERR_UNAVAILABLE', true],
    [status.DEADLINE_EXCEEDED, 'deadline', 'DC_ERR_TIMEOUT', true],
    [status.RESOURCE_EXHAUSTED, 'too many producers', 'DC_ERR_RESOURCE_EXHAUSTED', true],
    [status.UNAUTHENTICATED, 'missing token', 'DC_ERR_UNAUTHENTICATED', false],
    [status.FAILED_PRECONDITION, 'dispatch strategy mismatch', 'DC_ERR_PRECONDITION', false],
    [status.ALREADY_EXISTS, 'topic exists', 'DC_ERR_TOPIC_CONFLICT', false],
    [status.NOT_FOUND, 'topic not found', 'DC_ERR_TOPIC_NOT_FOUND', false],
    [status.INVALID_ARGUMENT, 'invalid topic name', 'DC_ERR_INVALID_TOPIC', false],
    [status.PERMISSION_DENIED, 'not allowed', 'DC_ERR_PERMISSION_DENIED', false],
  ] as const)('CreateProducer: status %s (%s) → %s, retryable %s', (code, details, expected, retryable) => {
    const err = fromGrpcError(grpcError(code, details), { rpc: 'CreateProducer', topic: '/default/t' });
    expect(err.code).toBe(expected);
    expect(err.retryable).toBe(retryable);
  });

  it('SendMessage NOT_FOUND means the producer moved: retryable so it is recreated', () => {
    const err = fromGrpcError(grpcError(status.NOT_FOUND, 'producer not found'), { rpc: 'SendMessage', topic: '/default/t' });
    expect(err).toMatchObject({ code: 'DC_ERR_PRODUCER_NOT_FOUND', retryable: true });
  });

  // The broker's texts after "Unable to publish the message: " (docs/danube-protocol.md §8.2).
  it.each([
    ['Topic /default/t is draining or closed; retry lookup/moved', 'DC_ERR_TOPIC_MOVED', true],
    ['the producer with id 42 is not attached to topic name: /default/t', 'DC_ERR_TOPIC_MOVED', true],
    ['Topic /default/t not found in registry', 'DC_ERR_TOPIC_MOVED', true],
    ['Payload validation failed: /id must be integer', 'DC_ERR_PAYLOAD_INVALID', false],
    ['Message size 2048 exceeds the maximum message size of 1024 bytes', 'DC_ERR_MESSAGE_TOO_LARGE', false],
    ['Message missing schema_id for topic /default/t', 'DC_ERR_SCHEMA_CONFIG', true],
    ['Schema ID 77 not found in registry', 'DC_ERR_SCHEMA_CONFIG', true],
    ['Topic /default/t requires schema but none is configured', 'DC_ERR_SCHEMA_CONFIG', true],
    ['Failed to create validator for schema 3', 'DC_ERR_SCHEMA_CONFIG', true],
    ['Schema version not found: 4', 'DC_ERR_SCHEMA_CONFIG', true],
    ['WAL is not configured for a reliable topic', 'DC_ERR_BROKER_CONFIG', true],
    ['Failed to append to WAL: I/O error: No space left on device (os error 28)', 'DC_ERR_PUBLISH_FAILED', true],
    ['something nobody documented', 'DC_ERR_PUBLISH_FAILED', true],
  ] as const)('SendMessage PERMISSION_DENIED "Unable to publish the message: %s" → %s, retryable %s', (text, code, retryable) => {
    const err = fromGrpcError(grpcError(status.PERMISSION_DENIED, `Unable to publish the message: ${text}`), { rpc: 'SendMessage', topic: '/default/t' });
    expect(err).toMatchObject({ code, retryable, grpcStatus: status.PERMISSION_DENIED });
    expect(err.message).toContain('SendMessage, topic /default/t');
    expect(err.message).toContain(text);
  });

  it('SendMessage PERMISSION_DENIED without the publish prefix is the RBAC check: not retryable', () => {
    const err = fromGrpcError(grpcError(status.PERMISSION_DENIED, 'Permission denied: Produce on /default/t'), { rpc: 'SendMessage', topic: '/default/t' });
    expect(err).toMatchObject({ code: 'DC_ERR_PERMISSION_DENIED', retryable: false });
  });

  it('SendMessage INVALID_ARGUMENT about size is DC_ERR_MESSAGE_TOO_LARGE and keeps the broker text with the limit', () => {
    const err = fromGrpcError(grpcError(status.INVALID_ARGUMENT, 'message size 2048 exceeds max_message_size 1024'), { rpc: 'SendMessage', topic: '/default/t' });
    expect(err.code).toBe('DC_ERR_MESSAGE_TOO_LARGE');
    expect(err.message).toContain('1024');
  });

  it('an UNAVAILABLE SendMessage mentioning a namespace stays a plain retryable outage', () => {
    const err = fromGrpcError(grpcError(status.UNAVAILABLE, 'namespace service restarting'), { rpc: 'SendMessage' });
    expect(err).toMatchObject({ code: 'DC_ERR_UNAVAILABLE', retryable: true });
  });

  it('Subscribe PERMISSION_DENIED is a rejected subscription', () => {
    const err = fromGrpcError(grpcError(status.PERMISSION_DENIED, 'Not able to subscribe'), { rpc: 'Subscribe', subscription: 's' });
    expect(err.code).toBe('DC_ERR_SUBSCRIPTION_REJECTED');
  });

  it('wraps non-gRPC errors as DC_ERR_UNKNOWN with the cause', () => {
    const cause = new TypeError('boom');
    const err = fromGrpcError(cause, { rpc: 'Ack' });
    expect(err).toMatchObject({ code: 'DC_ERR_UNKNOWN', retryable: false });
    expect(err.cause).toBe(cause);
  });

  it('passes DanubeErrors through untouched', () => {
    const original = new DanubeError('x', { code: 'DC_ERR_CLOSED', retryable: false });
    expect(fromGrpcError(original, { rpc: 'Ack' })).toBe(original);
  });
});
