import { status } from '@grpc/grpc-js';
import type { StatusObject } from '@grpc/grpc-js';

/**
 * A gRPC status the TestBroker answers with. Handlers throw it; the service wrappers turn it into the
 * call's status, so each check reads like the broker code it mirrors.
 */
export class BrokerError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.name = 'BrokerError';
  }
}

/** The status object grpc-js expects for a failed call; anything that is not a BrokerError becomes INTERNAL. */
export function toStatus(err: unknown): Partial<StatusObject> {
  if (err instanceof BrokerError) return { code: err.code, details: err.message };
  return { code: status.INTERNAL, details: err instanceof Error ? err.message : String(err) };
}

export function invalidArgument(message: string): BrokerError {
  return new BrokerError(status.INVALID_ARGUMENT, message);
}

export function notFound(message: string): BrokerError {
  return new BrokerError(status.NOT_FOUND, message);
}

export function unavailable(message: string): BrokerError {
  return new BrokerError(status.UNAVAILABLE, message);
}

export function failedPrecondition(message: string): BrokerError {
  return new BrokerError(status.FAILED_PRECONDITION, message);
}

export function permissionDenied(message: string): BrokerError {
  return new BrokerError(status.PERMISSION_DENIED, message);
}

export function internal(message: string): BrokerError {
  return new BrokerError(status.INTERNAL, message);
}

export function alreadyExists(message: string): BrokerError {
  return new BrokerError(status.ALREADY_EXISTS, message);
}
