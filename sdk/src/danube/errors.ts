import type { ServiceError } from '@grpc/grpc-js';
import { GrpcStatus } from './grpc-status.js';

/**
 * Stable error codes of the Danube client. Each is documented in the README's error table (a test keeps
 * the two in sync). Retired codes are never reused.
 */
export const DANUBE_ERROR_CODES = {
  DC_ERR_INVALID_TOPIC: 'topic name is not /<namespace>/<topic> with letters, digits, _ and -',
  DC_ERR_INVALID_URL: 'a broker URL is not http(s)://host:port',
  DC_ERR_INVALID_OPTION: 'a client, producer or consumer option is out of range',
  DC_ERR_TLS_FILE: 'a TLS CA, certificate or key file cannot be read',
  DC_ERR_MESSAGE_TOO_LARGE: 'a payload exceeds max_message_bytes or the broker policy',
  DC_ERR_NAMESPACE_NOT_FOUND: 'the topic namespace does not exist (Danube never creates namespaces)',
  DC_ERR_TOPIC_NOT_FOUND: 'the topic does not exist (only producers auto-create topics)',
  DC_ERR_TOPIC_CONFLICT: 'the topic exists with another shape (partitioned vs not, name prefix clash)',
  DC_ERR_UNAVAILABLE: 'the broker cannot be reached or asked us to retry',
  DC_ERR_TIMEOUT: 'the broker did not answer in time',
  DC_ERR_RESOURCE_EXHAUSTED: 'a broker limit was hit (producers or consumers per topic)',
  DC_ERR_UNAUTHENTICATED: 'the token is missing, invalid or expired',
  DC_ERR_PERMISSION_DENIED: 'the principal lacks the permission',
  DC_ERR_PRECONDITION: 'the topic disagrees with the request (dispatch strategy, schema subject)',
  DC_ERR_SUBSCRIPTION_REJECTED: 'the broker refused the subscription (Exclusive taken, consumer limit)',
  DC_ERR_PRODUCER_NOT_FOUND: 'the broker no longer knows the producer (moved or restarted); it is recreated',
  DC_ERR_PAYLOAD_INVALID: "the broker refused the payload: it fails the topic's schema validation",
  DC_ERR_TOPIC_MOVED: 'the topic is moving, not on this broker, or the producer is no longer attached; it is looked up and recreated',
  DC_ERR_SCHEMA_CONFIG: "the broker refused to publish because of the producer's or topic's schema configuration, not the payload",
  DC_ERR_BROKER_CONFIG: 'the broker refused to publish because of its own configuration (no WAL for a reliable topic)',
  DC_ERR_PUBLISH_FAILED: 'the broker failed to store the message (e.g. a WAL write error); transient',
  DC_ERR_SCHEMA: 'a schema registry request failed',
  DC_ERR_NOT_FOUND: 'the requested schema, subject or resource does not exist',
  DC_ERR_INVALID_ARGUMENT: 'the broker rejected a request argument',
  DC_ERR_INTERNAL: 'the broker failed internally',
  DC_ERR_CLOSED: 'the client, producer or consumer was closed',
  DC_ERR_UNKNOWN: 'an unexpected error',
} as const;

export type DanubeErrorCode = keyof typeof DANUBE_ERROR_CODES;

/** Codes no longer raised, with what replaced them; never given a new meaning. */
export const RETIRED_DANUBE_ERROR_CODES = {
  DC_ERR_PUBLISH_REJECTED:
    'every SendMessage refusal; split by the broker text (docs/danube-protocol.md §8.2) into DC_ERR_PAYLOAD_INVALID, DC_ERR_MESSAGE_TOO_LARGE, ' +
    'DC_ERR_TOPIC_MOVED, DC_ERR_SCHEMA_CONFIG, DC_ERR_BROKER_CONFIG and DC_ERR_PUBLISH_FAILED',
} as const;

export interface DanubeErrorOptions {
  code: DanubeErrorCode;
  retryable: boolean;
  grpcStatus?: GrpcStatus | undefined;
  cause?: unknown;
}

/** Every failure of the Danube client is a DanubeError with a stable code and a retry verdict. */
export class DanubeError extends Error {
  override name = 'DanubeError';
  readonly code: DanubeErrorCode;
  /** gRPC status code when the error came from the broker or the transport. */
  readonly grpcStatus: GrpcStatus | undefined;
  /** True when the same request may succeed later (transport down, broker busy, producer moved). */
  readonly retryable: boolean;

  constructor(message: string, options: DanubeErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.retryable = options.retryable;
    this.grpcStatus = options.grpcStatus;
  }
}

export function isDanubeError(err: unknown): err is DanubeError {
  return err instanceof DanubeError;
}

/** The RPC and the names involved, so every message says what failed and where. */
export interface CallContext {
  rpc: string;
  topic?: string | undefined;
  producer?: string | undefined;
  consumer?: string | undefined;
  subscription?: string | undefined;
  subject?: string | undefined;
}

function isServiceError(err: unknown): err is ServiceError {
  return typeof err === 'object' && err !== null && typeof (err as ServiceError).code === 'number' && 'details' in err;
}

function describe(ctx: CallContext): string {
  const parts = [ctx.rpc];
  if (ctx.topic) parts.push(`topic ${ctx.topic}`);
  if (ctx.producer) parts.push(`producer ${ctx.producer}`);
  if (ctx.consumer) parts.push(`consumer ${ctx.consumer}`);
  if (ctx.subscription) parts.push(`subscription ${ctx.subscription}`);
  if (ctx.subject) parts.push(`subject ${ctx.subject}`);
  return parts.join(', ');
}

/** Namespace of a `/ns/topic` name, for messages. */
function namespaceOf(topic: string | undefined): string | undefined {
  return topic?.split('/')[1];
}

const NAMESPACE_MISSING = /namespace/i;
const SIZE_HINT = /size|large|exceed/i;
const CLIENT_SIZE_LIMIT = /^(Attempted to send message with a size larger than|Received message larger than max) /;
// Every publish failure starts so (docs/danube-protocol.md §8.2); a PERMISSION_DENIED without it is the RBAC check.
const PUBLISH_PREFIX = /^\s*Unable to publish the message:?\s*/i;

/**
 * The broker's publish failure texts (docs/danube-protocol.md §8.2), most specific first. Only the payload rows are bad data;
 * anything not listed (a WAL or storage write error) is a transient broker failure, so a storage fault never
 * drops a record.
 */
const PUBLISH_REJECTIONS: ReadonlyArray<{ text: RegExp; code: DanubeErrorCode; retryable: boolean; why: string }> = [
  { text: /payload validation failed/i, code: 'DC_ERR_PAYLOAD_INVALID', retryable: false, why: "the payload fails the topic's schema" },
  {
    text: /draining or closed|retry lookup|\bmoved\b|is not attached to topic|^topic \S+ not found in registry/i,
    code: 'DC_ERR_TOPIC_MOVED',
    retryable: true,
    why: 'the topic moved or the broker lost the producer; looking the topic up and recreating the producer',
  },
  {
    text: /missing schema_id|schema id \S+ not found|requires schema but none is configured|failed to create validator|schema version not found/i,
    code: 'DC_ERR_SCHEMA_CONFIG',
    retryable: true,
    why: "the producer's or topic's schema configuration does not fit (not the payload's fault); retrying",
  },
  { text: /WAL is not configured/i, code: 'DC_ERR_BROKER_CONFIG', retryable: true, why: 'the broker has no WAL for a reliable topic (broker misconfiguration); retrying' },
  {
    text: /message size|payload size|too large|exceeds the maximum/i,
    code: 'DC_ERR_MESSAGE_TOO_LARGE',
    retryable: false,
    why: "the payload exceeds the broker's message size limit",
  },
];

/** A SendMessage PERMISSION_DENIED (docs/danube-protocol.md §8.2): an RBAC denial, or a publish failure sorted by its text. */
function publishRejection(detail: string, where: string): { code: DanubeErrorCode; retryable: boolean; text: string } {
  if (!PUBLISH_PREFIX.test(detail)) {
    return { code: 'DC_ERR_PERMISSION_DENIED', retryable: false, text: `${where} failed: the principal may not produce here: ${detail}` };
  }
  const reason = detail.replace(PUBLISH_PREFIX, '');
  const row = PUBLISH_REJECTIONS.find((r) => r.text.test(reason));
  if (row) return { code: row.code, retryable: row.retryable, text: `${where} failed: ${row.why} (broker said: ${detail})` };
  return {
    code: 'DC_ERR_PUBLISH_FAILED',
    retryable: true,
    text: `${where} failed: the broker could not store the message (a broker-side failure, not the payload's fault); retrying (broker said: ${detail})`,
  };
}
const PREFIX_CLASH = /exist|partition/i;

/**
 * Maps a gRPC failure to a DanubeError following the broker's status table (docs/danube-protocol.md §12).
 * Only transport-level conditions are retryable, plus the producer-moved cases the reference clients
 * leave to the application; a missing namespace is never retried (it does not fix itself).
 */
export function fromGrpcError(err: unknown, ctx: CallContext): DanubeError {
  if (err instanceof DanubeError) return err;
  if (!isServiceError(err)) {
    const message = err instanceof Error ? err.message : String(err);
    return new DanubeError(`${describe(ctx)} failed: ${message}`, { code: 'DC_ERR_UNKNOWN', retryable: false, cause: err });
  }
  const detail = err.details || err.message;
  const where = describe(ctx);
  const make = (code: DanubeErrorCode, retryable: boolean, text = `${where} failed: ${detail}`) =>
    new DanubeError(text, { code, retryable, grpcStatus: err.code, cause: err });

  switch (err.code) {
    case GrpcStatus.UNAVAILABLE:
      if (NAMESPACE_MISSING.test(detail) && ctx.rpc !== 'SendMessage') {
        const ns = namespaceOf(ctx.topic) ?? '?';
        return make(
          'DC_ERR_NAMESPACE_NOT_FOUND',
          false,
          `${where} failed: namespace "${ns}" does not exist on the broker; Danube never creates namespaces, ` +
            `create it with the admin API (or set [danube] create_namespaces = true) (broker said: ${detail})`,
        );
      }
      return make('DC_ERR_UNAVAILABLE', true);
    case GrpcStatus.DEADLINE_EXCEEDED:
      return make('DC_ERR_TIMEOUT', true);
    case GrpcStatus.RESOURCE_EXHAUSTED:
      // The client's own message limit (grpc-js and the http2 transport word it alike): retrying cannot help.
      if (CLIENT_SIZE_LIMIT.test(detail)) {
        return make('DC_ERR_MESSAGE_TOO_LARGE', false, `${where} failed: message exceeds the client's gRPC message size limit (docs/danube-protocol.md §2.6): ${detail}`);
      }
      return make('DC_ERR_RESOURCE_EXHAUSTED', true);
    case GrpcStatus.UNAUTHENTICATED:
      return make('DC_ERR_UNAUTHENTICATED', false, `${where} failed: not authenticated (token missing, invalid or expired): ${detail}`);
    case GrpcStatus.PERMISSION_DENIED:
      if (ctx.rpc === 'SendMessage') {
        const rejection = publishRejection(detail, where);
        return make(rejection.code, rejection.retryable, rejection.text);
      }
      if (ctx.rpc === 'Subscribe') return make('DC_ERR_SUBSCRIPTION_REJECTED', false);
      return make('DC_ERR_PERMISSION_DENIED', false);
    case GrpcStatus.FAILED_PRECONDITION:
      return make('DC_ERR_PRECONDITION', false);
    case GrpcStatus.ALREADY_EXISTS:
      return make('DC_ERR_TOPIC_CONFLICT', false);
    case GrpcStatus.NOT_FOUND:
      if (ctx.rpc === 'SendMessage') return make('DC_ERR_PRODUCER_NOT_FOUND', true);
      if (ctx.rpc === 'Subscribe' || ctx.rpc === 'CreateProducer') return make('DC_ERR_TOPIC_NOT_FOUND', false);
      if (ctx.rpc.startsWith('Create') && PREFIX_CLASH.test(detail) && /already/i.test(detail)) {
        return make('DC_ERR_TOPIC_CONFLICT', false);
      }
      return make('DC_ERR_NOT_FOUND', false);
    case GrpcStatus.INVALID_ARGUMENT:
      if (ctx.rpc === 'SendMessage' && SIZE_HINT.test(detail)) {
        return make('DC_ERR_MESSAGE_TOO_LARGE', false, `${where} failed: payload exceeds the broker's message size limit: ${detail}`);
      }
      if (/topic/i.test(detail) && ctx.topic) return make('DC_ERR_INVALID_TOPIC', false);
      return make('DC_ERR_INVALID_ARGUMENT', false);
    case GrpcStatus.OUT_OF_RANGE:
      return make('DC_ERR_MESSAGE_TOO_LARGE', false, `${where} failed: message exceeds the gRPC message size limit: ${detail}`);
    case GrpcStatus.CANCELLED:
      // Our own closing never gets here as a failure to act on (the client, producer and consumer check their
      // closed state and signal first), so a cancel is the broker's or the connection's: a reset stream (RST_STREAM
      // CANCEL, e.g. connections drained after a GOAWAY), retried like any transport failure (docs/danube-protocol.md §12).
      return make('DC_ERR_UNAVAILABLE', true, `${where} failed: the call was cancelled by the broker or on the connection: ${detail}`);
    case GrpcStatus.INTERNAL:
      return make(ctx.subject !== undefined ? 'DC_ERR_SCHEMA' : 'DC_ERR_INTERNAL', false);
    default:
      return make('DC_ERR_UNKNOWN', false);
  }
}

export function closedError(what: string): DanubeError {
  return new DanubeError(`${what} is closed`, { code: 'DC_ERR_CLOSED', retryable: false });
}
