import type {
  handleServerStreamingCall,
  handleUnaryCall,
  sendUnaryData,
  ServerUnaryCall,
  ServerWritableStream,
  ServiceDefinition,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
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

/**
 * The broker's limit on one decoded request message: tonic's default, 4 MiB (docs/danube-protocol.md §2.6). The
 * gRPC server itself accepts more (RECEIVE_LIMIT_BYTES), so a request over this limit reaches the guard, which
 * answers as tonic's decoder does.
 */
const DECODE_LIMIT_BYTES = 4 * 1024 * 1024;
/** What the TestBroker's gRPC servers accept at all: above every client's send limit (ours is 16 MiB). */
export const RECEIVE_LIMIT_BYTES = 64 * 1024 * 1024;

/** A request too large to decode, in place of the decoded request. */
class OversizedRequest {
  constructor(readonly bytes: number) {}
}

function oversized(request: unknown): Denial | undefined {
  if (!(request instanceof OversizedRequest)) return undefined;
  return { code: status.OUT_OF_RANGE, details: `Error, decoded message length too large: found ${request.bytes} bytes, the limit is: ${DECODE_LIMIT_BYTES} bytes` };
}

/** `definition` whose request decoders leave a request over the broker's decode limit undecoded (OversizedRequest). */
export function withDecodeLimit(definition: ServiceDefinition): ServiceDefinition {
  const limited: Record<string, ServiceDefinition[string]> = {};
  for (const [name, method] of Object.entries(definition)) {
    const decode = method.requestDeserialize;
    limited[name] = { ...method, requestDeserialize: (bytes: Buffer) => (bytes.length > DECODE_LIMIT_BYTES ? new OversizedRequest(bytes.length) : decode(bytes)) };
  }
  return limited as ServiceDefinition;
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
        // As in tonic, authentication (an interceptor on the headers) comes before decoding the body.
        const proceed = (denial: Denial | undefined): void => {
          const refused = denial ?? oversized(call.request);
          if (refused) failStream(call, refused);
          else stream(call);
        };
        if (isPromise<Denial | undefined>(denied)) denied.then(proceed, (err: unknown) => failStream(call, err));
        else proceed(denied);
      }) as handleServerStreamingCall<unknown, unknown>;
    } else {
      const call1 = handler as handleUnaryCall<unknown, unknown>;
      guarded[name] = ((call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        const denied = check(call.metadata);
        const proceed = (denial: Denial | undefined): void => {
          const refused = denial ?? oversized(call.request);
          if (refused) callback(refused);
          else call1(call, callback);
        };
        if (isPromise<Denial | undefined>(denied)) denied.then(proceed, (err: unknown) => callback(toStatus(err)));
        else proceed(denied);
      }) as handleUnaryCall<unknown, unknown>;
    }
  }
  return guarded;
}
