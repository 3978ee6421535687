import { GrpcStatus } from './grpc-status.js';

const STATUS_NAMES = Object.fromEntries(Object.entries(GrpcStatus).map(([name, code]) => [code, name])) as Record<number, string>;

/**
 * A failed call of the http2 transport, shaped like grpc-js's ServiceError (`code` + `details`), so that
 * fromGrpcError gets the same inputs from either transport.
 */
export class UnaryCallError extends Error {
  override name = 'UnaryCallError';

  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${code} ${STATUS_NAMES[code] ?? 'UNKNOWN'}: ${details}`);
  }
}

/** gRPC status of a non-200 HTTP response without grpc-status (gRPC doc/http-grpc-status-mapping.md). */
export function statusFromHttp(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}
