import { DanubeError } from './danube/errors.js';

/** How the runtime treats a failure (docs/delivery-semantics.md §5). */
export type ConnectorErrorKind = 'retryable' | 'invalid_data' | 'fatal';

/**
 * Stable codes of connector failures. Each is in sdk/README.md's error table (a test keeps them in sync).
 * Retired codes are never reused.
 */
export const CONNECTOR_ERROR_CODES = {
  DC_ERR_CONNECTOR_RETRYABLE: 'a transient failure of the external system; retried with backoff',
  DC_ERR_CONNECTOR_INVALID_DATA: 'a record that can never succeed; dead-lettered or dropped, then committed',
  DC_ERR_CONNECTOR_FATAL: 'the connector cannot go on; the child stops and the host restarts it',
  DC_ERR_CONNECTOR_BUG: 'a programming error (TypeError, ReferenceError) in the plugin; treated as fatal',
  DC_ERR_CONNECTOR_UNKNOWN: 'an error of unknown type; treated as retryable',
  DC_ERR_RETRIES_EXHAUSTED: 'a retryable failure outlasted the retries and on_retry_exhausted = "fail"',
} as const;

export type ConnectorErrorCode = keyof typeof CONNECTOR_ERROR_CODES | (string & {});

export interface ConnectorErrorOptions {
  /** A stable code of the plugin's own (e.g. 'MQTT_BAD_TOPIC'); defaults to the kind's DC_ERR_CONNECTOR_* code. */
  code?: string;
  cause?: unknown;
}

const DEFAULT_CODES: Record<ConnectorErrorKind, ConnectorErrorCode> = {
  retryable: 'DC_ERR_CONNECTOR_RETRYABLE',
  invalid_data: 'DC_ERR_CONNECTOR_INVALID_DATA',
  fatal: 'DC_ERR_CONNECTOR_FATAL',
};

/**
 * The one error type a connector throws to tell the runtime what to do:
 * - `retryable`: try again later (external system down, timeout, throttled);
 * - `invalid_data`: this record can never succeed (unparsable, rejected by a schema): dead-letter or drop it
 *   and go on;
 * - `fatal`: stop the connector (bad credentials, missing resource); the host restarts it with backoff.
 */
export class ConnectorError extends Error {
  override name = 'ConnectorError';
  readonly kind: ConnectorErrorKind;
  readonly code: ConnectorErrorCode;

  constructor(kind: ConnectorErrorKind, message: string, options: ConnectorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.code = options.code ?? DEFAULT_CODES[kind];
  }

  static retryable(message: string, options?: ConnectorErrorOptions): ConnectorError {
    return new ConnectorError('retryable', message, options);
  }

  static invalidData(message: string, options?: ConnectorErrorOptions): ConnectorError {
    return new ConnectorError('invalid_data', message, options);
  }

  static fatal(message: string, options?: ConnectorErrorOptions): ConnectorError {
    return new ConnectorError('fatal', message, options);
  }
}

// A plugin may bundle its own copy of the SDK, so recognise ConnectorErrors by shape, not by instanceof.
export function looksLikeConnectorError(err: unknown): err is ConnectorError {
  const e = err as Partial<ConnectorError> | null;
  return (
    typeof e === 'object' && e !== null && e.name === 'ConnectorError' && typeof e.code === 'string' &&
    (e.kind === 'retryable' || e.kind === 'invalid_data' || e.kind === 'fatal')
  );
}

const TRANSIENT_SYSTEM_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN']);
// Only what is about the payload itself (docs/danube-protocol.md §8.2): a broker refusal for any other reason is never bad data.
const INVALID_DANUBE_CODES = new Set(['DC_ERR_MESSAGE_TOO_LARGE', 'DC_ERR_PAYLOAD_INVALID', 'DC_ERR_INVALID_ARGUMENT']);

/**
 * Decides the kind of anything a plugin or the Danube client throws:
 * ConnectorError → as it says; DanubeError → retryable when the client says so (outages, and every publish
 * refusal that is not about the payload: a moving topic, schema configuration, a broker storage fault), invalid
 * data for a payload the broker refuses (too large, schema validation), fatal otherwise (auth, missing namespace); transient network
 * errors → retryable; SyntaxError (unparsable input) → invalid data; TypeError and ReferenceError (plugin bugs)
 * → fatal; anything else → retryable, so a failing external write is retried rather than dropped.
 */
export function classify(err: unknown): ConnectorError {
  if (err instanceof ConnectorError || looksLikeConnectorError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof DanubeError) {
    if (err.retryable) return new ConnectorError('retryable', message, { code: err.code, cause: err });
    if (INVALID_DANUBE_CODES.has(err.code)) return new ConnectorError('invalid_data', message, { code: err.code, cause: err });
    return new ConnectorError('fatal', message, { code: err.code, cause: err });
  }
  const systemCode = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof systemCode === 'string' && TRANSIENT_SYSTEM_CODES.has(systemCode)) {
    return new ConnectorError('retryable', message, { code: 'DC_ERR_CONNECTOR_RETRYABLE', cause: err });
  }
  if (err instanceof SyntaxError) return new ConnectorError('invalid_data', message, { cause: err });
  if (err instanceof TypeError || err instanceof ReferenceError) {
    return new ConnectorError('fatal', `plugin bug: ${message}`, { code: 'DC_ERR_CONNECTOR_BUG', cause: err });
  }
  return new ConnectorError('retryable', message, { code: 'DC_ERR_CONNECTOR_UNKNOWN', cause: err });
}
