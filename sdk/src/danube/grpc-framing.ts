import type * as http2 from 'node:http2';
import { GrpcStatus } from './grpc-status.js';
import { statusFromHttp } from './unary-call-error.js';

/**
 * gRPC over HTTP/2 as the http2 transport speaks it (gRPC's PROTOCOL-HTTP2 document, docs/danube-protocol.md
 * §2.8): each message is a 5-byte prefix (compressed flag, big-endian length) plus the serialized bytes; the
 * request carries only the headers gRPC requires and ours.
 */
export const GRPC_FRAME_HEADER_BYTES = 5;
const MAX_TIMEOUT_DIGITS = 99_999_999; // grpc-timeout allows at most 8 digits

function grpcTimeout(ms: number): string {
  const whole = Math.max(1, Math.ceil(ms));
  return whole <= MAX_TIMEOUT_DIGITS ? `${whole}m` : `${Math.min(MAX_TIMEOUT_DIGITS, Math.ceil(whole / 1000))}S`;
}

/** One uncompressed length-prefixed message. */
export function grpcFrame(body: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(GRPC_FRAME_HEADER_BYTES + body.length);
  body.copy(frame, GRPC_FRAME_HEADER_BYTES);
  return writeGrpcFrameHeader(frame);
}

/** Writes the prefix into the first GRPC_FRAME_HEADER_BYTES of `frame`, whose message is the rest. */
export function writeGrpcFrameHeader(frame: Buffer): Buffer {
  frame[0] = 0; // not compressed
  frame.writeUInt32BE(frame.length - GRPC_FRAME_HEADER_BYTES, 1);
  return frame;
}

/**
 * The request headers of one call: what gRPC requires plus `grpc-timeout`, `authorization` and
 * `x-danube-broker-url` (docs/danube-protocol.md §2.4) when set. Every header costs on both ends of every call.
 */
export function grpcRequestHeaders(
  path: string,
  timeoutMs: number | undefined,
  authorization: string | undefined,
  proxyBrokerUrl: string | undefined,
): http2.OutgoingHttpHeaders {
  const headers: http2.OutgoingHttpHeaders = { ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' };
  if (timeoutMs !== undefined) headers['grpc-timeout'] = grpcTimeout(timeoutMs);
  if (authorization !== undefined) headers.authorization = authorization;
  if (proxyBrokerUrl !== undefined) headers['x-danube-broker-url'] = proxyBrokerUrl;
  return headers;
}

/** grpc-message is percent-encoded; a malformed escape leaves the text as sent. */
function decodeGrpcMessage(value: unknown): string {
  if (typeof value !== 'string') return '';
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** A call's gRPC status as read off its response: the code and the decoded message. */
export interface GrpcStatusLine {
  code: number;
  details: string;
}

/**
 * The status a call's response headers carry: a trailers-only response's (HEADERS with END_STREAM and no DATA,
 * how the broker refuses a call at once), or a non-200 `:status` mapped by gRPC's HTTP table; undefined when
 * the response goes on to DATA and trailers.
 */
export function statusOfResponseHeaders(headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader): GrpcStatusLine | undefined {
  if (headers['grpc-status'] !== undefined) return { code: Number(headers['grpc-status']), details: decodeGrpcMessage(headers['grpc-message']) };
  const httpStatus = Number(headers[':status']);
  return httpStatus === 200 ? undefined : { code: statusFromHttp(httpStatus), details: `Received HTTP status code ${httpStatus}` };
}

/** The status in a call's trailers; UNKNOWN when they carry none. */
export function statusOfTrailers(trailers: http2.IncomingHttpHeaders): GrpcStatusLine {
  if (trailers['grpc-status'] === undefined) return { code: GrpcStatus.UNKNOWN, details: 'Response trailers carry no grpc-status' };
  return { code: Number(trailers['grpc-status']), details: decodeGrpcMessage(trailers['grpc-message']) };
}
