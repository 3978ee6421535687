import type {
  handleServerStreamingCall,
  handleUnaryCall,
  sendUnaryData,
  ServerUnaryCall,
  ServerWritableStream,
  ServiceDefinition,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { CallCheck, Denial } from './auth-guard.js';
import { toStatus } from './broker-error.js';

/** A unary handler written as a plain function: return the response or throw a BrokerError. */
export function unary<Req, Res>(fn: (request: Req, call: ServerUnaryCall<Req, Res>) => Res): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let response: Res;
    try {
      response = fn(call.request, call);
    } catch (err) {
      callback(toStatus(err));
      return;
    }
    callback(null, response);
  };
}

/** Fails a server-streaming call with a status (grpc-js turns an 'error' event into the trailers). */
export function failStream(call: ServerWritableStream<unknown, unknown>, err: unknown): void {
  call.emit('error', err instanceof Error ? toStatus(err) : err);
}

function isPromise<T>(value: unknown): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === 'function';
}

/**
 * Runs `check` (authentication, injected unavailability) before every method of a service. The check is
 * synchronous on the hot path (no auth, or a cached token), so SendMessage pays no extra tick.
 */
export function guardService(
  definition: ServiceDefinition,
  implementation: Record<string, unknown>,
  check: CallCheck,
): UntypedServiceImplementation {
  const guarded: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const handler = implementation[name];
    if (typeof handler !== 'function') continue;
    if (method.responseStream) {
      const stream = handler as handleServerStreamingCall<unknown, unknown>;
      guarded[name] = ((call: ServerWritableStream<unknown, unknown>) => {
        const denied = check(call.metadata);
        const proceed = (denial: Denial | undefined): void => (denial ? failStream(call, denial) : stream(call));
        if (isPromise<Denial | undefined>(denied)) denied.then(proceed, (err: unknown) => failStream(call, err));
        else proceed(denied);
      }) as handleServerStreamingCall<unknown, unknown>;
    } else {
      const call1 = handler as handleUnaryCall<unknown, unknown>;
      guarded[name] = ((call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        const denied = check(call.metadata);
        const proceed = (denial: Denial | undefined): void => (denial ? callback(denial) : call1(call, callback));
        if (isPromise<Denial | undefined>(denied)) denied.then(proceed, (err: unknown) => callback(toStatus(err)));
        else proceed(denied);
      }) as handleUnaryCall<unknown, unknown>;
    }
  }
  return guarded;
}
