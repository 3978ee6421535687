import { DanubeError } from './errors.js';

/** gRPC (and setTimeout) cannot set a deadline further than 2^31 - 1 ms ahead: every call would fail at once. */
const MAX_REQUEST_TIMEOUT_MS = 2_147_483_647;

/** A request timeout every call can use; a DanubeError (DC_ERR_INVALID_OPTION) at construction otherwise. */
export function checkRequestTimeout(requestTimeoutMs: number): void {
  if (!(requestTimeoutMs > 0)) {
    throw new DanubeError(`requestTimeoutMs must be > 0, got ${requestTimeoutMs}`, { code: 'DC_ERR_INVALID_OPTION', retryable: false });
  }
  if (!(requestTimeoutMs <= MAX_REQUEST_TIMEOUT_MS)) {
    throw new DanubeError(`requestTimeoutMs must be at most ${MAX_REQUEST_TIMEOUT_MS} (about 24.8 days), got ${requestTimeoutMs}`, { code: 'DC_ERR_INVALID_OPTION', retryable: false });
  }
}
