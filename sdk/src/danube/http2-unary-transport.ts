import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { BrokerAddress } from './broker-url.js';
import { DeadlineQueue, type DeadlineEntry, type Expiring } from './deadline-queue.js';
import { GRPC_FRAME_HEADER_BYTES, grpcRequestHeaders, statusOfResponseHeaders, statusOfTrailers } from './grpc-framing.js';
import { GrpcStatus } from './grpc-status.js';
import { Http2ServerStream } from './http2-server-stream.js';
import { UnaryCallError } from './unary-call-error.js';

/** PEM material of a TLS session (already read from files); absent = plain text. */
export interface Http2TlsMaterial {
  ca: Buffer | null;
  cert: Buffer | null;
  key: Buffer | null;
  serverName: string | undefined;
}

export interface Http2UnaryTransportOptions {
  tls: Http2TlsMaterial | undefined;
  /** Largest request message, serialized, in bytes (grpc-js `grpc.max_send_message_length`). */
  maxSendMessageBytes: number;
  /** Largest response message in bytes (grpc-js `grpc.max_receive_message_length`). */
  maxReceiveMessageBytes: number;
  /** Keep-alive ping interval in ms, as the grpc-js channel's `grpc.keepalive_time_ms`. */
  keepaliveMs: number;
  /** A ping unanswered this long (ms) ends the session, as `grpc.keepalive_timeout_ms`. */
  keepaliveTimeoutMs: number;
}

/** One method (unary or server-streaming): its HTTP/2 path and the proto-loader codec of its messages. */
export interface MethodCodec {
  path: string;
  /** The serialized request with its gRPC length prefix (grpc-framing.ts). */
  frame(request: unknown): Buffer;
  deserialize(bytes: Buffer): unknown;
}

// Windows: what we may receive without a round trip: a whole 16 MiB message per stream, 64 MiB per connection,
// so concurrent calls never wait on our WINDOW_UPDATEs. (What we send is paced by the broker's windows, which
// it reopens as it reads.) Session memory is unbounded as in grpc-js: the callers' in-flight windows bound it.
const STREAM_WINDOW_BYTES = 16 * 1024 * 1024;
const SESSION_WINDOW_BYTES = 64 * 1024 * 1024;
const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

/** A call ready to send: its length-prefixed request and its stream on the session. */
interface OpenedCall {
  frame: Buffer;
  session: http2.ClientHttp2Session;
  stream: http2.ClientHttp2Stream;
}

const CALL = Symbol('danube.unaryCall');
type CallStream = http2.ClientHttp2Stream & { [CALL]: UnaryCall };

/**
 * The state of one call, hung on its stream. The stream's listeners are shared module functions that find it
 * there (`this` is the stream), so a call allocates no closures beyond its promise's.
 */
class UnaryCall implements Expiring {
  status: number | undefined;
  details = '';
  chunks: Buffer[] = [];
  received = 0;
  settled = false;
  deadline: DeadlineEntry | undefined;

  constructor(
    readonly transport: Http2UnaryTransport,
    readonly session: http2.ClientHttp2Session,
    readonly stream: http2.ClientHttp2Stream,
    readonly method: MethodCodec,
    readonly decode: boolean,
    readonly resolve: (value: unknown) => void,
    readonly reject: (err: unknown) => void,
  ) {}

  fail(error: UnaryCallError): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(error);
    if (!this.stream.closed) this.stream.close(NGHTTP2_CANCEL);
  }

  expired(): void {
    this.deadline = undefined;
    this.fail(new UnaryCallError(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded'));
  }
}

function onResponse(this: CallStream, headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader): void {
  const line = statusOfResponseHeaders(headers);
  if (!line) return;
  const call = this[CALL];
  call.status = line.code;
  call.details = line.details;
}

function onData(this: CallStream, chunk: Buffer): void {
  const call = this[CALL];
  call.received += chunk.length;
  const max = call.transport.maxReceiveMessageBytes;
  if (call.received > max + GRPC_FRAME_HEADER_BYTES) {
    call.chunks = [];
    call.fail(new UnaryCallError(GrpcStatus.RESOURCE_EXHAUSTED, `Received message larger than max (${call.received - GRPC_FRAME_HEADER_BYTES} vs ${max})`));
    return;
  }
  call.chunks.push(chunk);
}

function onTrailers(this: CallStream, trailers: http2.IncomingHttpHeaders): void {
  const line = statusOfTrailers(trailers);
  const call = this[CALL];
  call.status = line.code;
  call.details = line.details;
}

function onClose(this: CallStream): void {
  const call = this[CALL];
  call.transport.finish(call);
}

function ignore(): void {}

/**
 * A lean gRPC client on node:http2 for the hot calls, SendMessage, Ack and Nack, and the ReceiveMessages stream
 * (issue 16): one HTTP/2 session to one broker address, re-established on the next call after GOAWAY or
 * connection loss. Each unary call is one stream: HEADERS, one length-prefixed DATA frame, and the status from
 * the trailers or from a trailers-only response; a server stream is read by Http2ServerStream. Failures come
 * out as UnaryCallError (code + details, as a grpc-js ServiceError), so fromGrpcError maps both transports
 * through the same table. Nothing is retried here: a call that fails on a dropped
 * connection or a refused stream fails UNAVAILABLE (retryable) and the client's retry layer decides.
 */
export class Http2UnaryTransport {
  private session: http2.ClientHttp2Session | undefined;
  private lastSessionError: string | undefined;
  private calls = 0;
  private sessionsOpened = 0;
  private readonly deadlines = new DeadlineQueue();

  constructor(
    private readonly address: BrokerAddress,
    private readonly options: Http2UnaryTransportOptions,
  ) {}

  /** Calls whose deadline is pending (for tests). */
  get pendingDeadlines(): number {
    return this.deadlines.size;
  }

  /** Calls and server streams on the wire now (for tests that count what a call leaves behind). */
  get inFlight(): number {
    return this.calls;
  }

  get maxReceiveMessageBytes(): number {
    return this.options.maxReceiveMessageBytes;
  }

  /** Sessions opened so far: one, plus one per GOAWAY or connection loss followed by a call. */
  get sessionCount(): number {
    return this.sessionsOpened;
  }

  /** The live session, if any (for tests). */
  get currentSession(): http2.ClientHttp2Session | undefined {
    return this.session;
  }

  /** The socket under a session: TCP with Nagle off (as grpc-js), TLS with ALPN h2 and the configured material. */
  private dial(url: URL): net.Socket {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(url.port);
    const material = this.options.tls;
    // The socket's error (refused, reset, TLS handshake) comes before the session's: keep it for the calls' details.
    const remember = (err: Error) => {
      this.lastSessionError = err.message;
    };
    if (!material) return net.connect({ host, port, noDelay: true }).once('error', remember);
    const options: tls.ConnectionOptions = { host, port, ALPNProtocols: ['h2'] };
    if (material.ca) options.ca = material.ca;
    if (material.cert) options.cert = material.cert;
    if (material.key) options.key = material.key;
    // SNI and the certificate check use the configured name, else the host unless it is an IP (as grpc-js).
    const serverName = material.serverName ?? (net.isIP(host) ? undefined : host);
    if (serverName !== undefined) options.servername = serverName;
    return tls.connect(options).setNoDelay(true).once('error', remember);
  }

  private connect(): http2.ClientHttp2Session {
    const authority = `${this.options.tls ? 'https' : 'http'}://${this.address.target}`;
    this.lastSessionError = undefined;
    const session = http2.connect(authority, {
      settings: { enablePush: false, initialWindowSize: STREAM_WINDOW_BYTES },
      maxSessionMemory: Number.MAX_SAFE_INTEGER,
      createConnection: (url: URL) => this.dial(url),
    });
    this.sessionsOpened++;
    const forget = () => {
      if (this.session === session) this.session = undefined;
    };
    let keepalive: NodeJS.Timeout | undefined;
    // Errors surface on the streams; without a listener a session error would be thrown.
    session.on('error', (err: Error) => {
      this.lastSessionError ??= err.message;
      forget();
    });
    // After GOAWAY the session finishes its open streams and takes no new ones: the next call dials again.
    session.once('goaway', forget);
    session.once('close', () => {
      forget();
      clearInterval(keepalive);
    });
    session.once('connect', () => session.setLocalWindowSize(SESSION_WINDOW_BYTES));
    keepalive = setInterval(() => this.ping(session), this.options.keepaliveMs).unref();
    if (this.calls === 0) session.unref();
    this.session = session;
    return session;
  }

  /** A keep-alive ping; no answer within the timeout means a dead peer, so the session is destroyed. */
  private ping(session: http2.ClientHttp2Session): void {
    if (session.destroyed || session.closed) return;
    const timer = setTimeout(() => session.destroy(), this.options.keepaliveTimeoutMs).unref();
    try {
      session.ping(() => clearTimeout(timer));
    } catch {
      clearTimeout(timer);
    }
  }

  private liveSession(): http2.ClientHttp2Session {
    const session = this.session;
    if (session && !session.closed && !session.destroyed) return session;
    return this.connect();
  }

  /** The length-prefixed request; throws UnaryCallError when it cannot be serialized or is over the send limit. */
  private requestFrame(method: MethodCodec, request: unknown): Buffer {
    let frame: Buffer;
    try {
      frame = method.frame(request);
    } catch (err) {
      throw new UnaryCallError(GrpcStatus.INTERNAL, `Request message serialization failure: ${(err as Error).message}`);
    }
    if (frame.length - GRPC_FRAME_HEADER_BYTES > this.options.maxSendMessageBytes) {
      // grpc-js's wording, so that fromGrpcError sees the same text from either transport.
      throw new UnaryCallError(GrpcStatus.RESOURCE_EXHAUSTED, `Attempted to send message with a size larger than ${this.options.maxSendMessageBytes}`);
    }
    return frame;
  }

  /**
   * A call's request frame and its new stream on the live session, counted as on the wire; throws
   * UnaryCallError when the request cannot be sent (unserializable, over the limit) or the stream is refused.
   */
  private openCall(method: MethodCodec, request: unknown, headers: http2.OutgoingHttpHeaders): OpenedCall {
    const frame = this.requestFrame(method, request);
    let session: http2.ClientHttp2Session;
    let stream: http2.ClientHttp2Stream;
    try {
      session = this.liveSession();
      // No options object: node:http2 copies and validates one per call, and a POST keeps its stream open anyway.
      stream = session.request(headers);
    } catch (err) {
      // A session that has just received GOAWAY or died refuses new streams: fail once, retryably.
      this.session = undefined;
      throw new UnaryCallError(GrpcStatus.UNAVAILABLE, `cannot start a call to ${this.address.target}: ${(err as Error).message}`);
    }
    // Open calls and streams keep the process alive, as grpc-js's do; an idle session does not.
    if (this.calls++ === 0) session.ref();
    return { frame, session, stream };
  }

  private streamClosed(): void {
    if (--this.calls === 0) this.session?.unref();
  }

  /**
   * One unary call. `authorization` and `proxyBrokerUrl` become the `authorization` and `x-danube-broker-url`
   * headers when set (docs/danube-protocol.md §2.4); `timeoutMs` is the deadline, sent as grpc-timeout and enforced locally.
   * `decode` false: the caller ignores the response, which is then checked for framing but not decoded.
   * Rejects with UnaryCallError.
   */
  unary(
    method: MethodCodec,
    request: unknown,
    authorization: string | undefined,
    proxyBrokerUrl: string | undefined,
    timeoutMs: number | undefined,
    decode = true,
  ): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      let opened: OpenedCall;
      try {
        opened = this.openCall(method, request, grpcRequestHeaders(method.path, timeoutMs, authorization, proxyBrokerUrl));
      } catch (err) {
        reject(err);
        return;
      }
      const { frame, session, stream } = opened;
      const call = new UnaryCall(this, session, stream, method, decode, resolve, reject);
      if (timeoutMs !== undefined) call.deadline = this.deadlines.add(timeoutMs, call);
      (stream as CallStream)[CALL] = call;
      stream.on('response', onResponse);
      stream.on('data', onData);
      stream.on('trailers', onTrailers);
      // Stream errors (RST_STREAM, connection loss) are read from rstCode and the session on 'close'.
      stream.on('error', ignore);
      stream.on('close', onClose);
      stream.end(frame);
    });
  }

  /**
   * One server-streaming call (ReceiveMessages) on the same session as the unary calls, with the same headers,
   * limits and status mapping, and no deadline. Failures, including one to start, arrive as the stream's 'error'.
   */
  serverStream<T>(method: MethodCodec, request: unknown, authorization: string | undefined, proxyBrokerUrl: string | undefined): Http2ServerStream<T> {
    let opened: OpenedCall;
    try {
      opened = this.openCall(method, request, grpcRequestHeaders(method.path, undefined, authorization, proxyBrokerUrl));
    } catch (err) {
      return Http2ServerStream.failed<T>(err as UnaryCallError);
    }
    const { frame, session, stream } = opened;
    stream.once('close', () => this.streamClosed());
    const result = new Http2ServerStream<T>(stream, method.deserialize as (bytes: Buffer) => T, this.options.maxReceiveMessageBytes, (rstCode) =>
      this.noStatusError(session, rstCode),
    );
    stream.end(frame);
    return result;
  }

  /** A stream closed: settles its call from the status seen (or why there was none). */
  finish(call: UnaryCall): void {
    if (call.deadline) this.deadlines.cancel(call.deadline);
    this.streamClosed();
    if (call.settled) return;
    if (call.status === undefined) {
      call.fail(this.noStatusError(call.session, call.stream.rstCode));
      return;
    }
    if (call.status !== GrpcStatus.OK) {
      call.fail(new UnaryCallError(call.status, call.details));
      return;
    }
    call.settled = true;
    try {
      call.resolve(this.decode(call.method, call.chunks, call.decode));
    } catch (err) {
      call.reject(err);
    }
  }

  /** Why a stream closed without a gRPC status: the connection went away, the peer reset it, or it just ended. */
  private noStatusError(session: http2.ClientHttp2Session, rstCode: number | undefined): UnaryCallError {
    if (rstCode === NGHTTP2_REFUSED_STREAM) return new UnaryCallError(GrpcStatus.UNAVAILABLE, `${this.address.target} refused the stream (GOAWAY)`);
    if (session.destroyed || session.closed) {
      const why = this.lastSessionError ? `: ${this.lastSessionError}` : '';
      return new UnaryCallError(GrpcStatus.UNAVAILABLE, `connection to ${this.address.target} dropped${why}`);
    }
    if (rstCode === NGHTTP2_CANCEL) return new UnaryCallError(GrpcStatus.CANCELLED, 'Call cancelled by the server');
    if (rstCode === NGHTTP2_ENHANCE_YOUR_CALM) return new UnaryCallError(GrpcStatus.RESOURCE_EXHAUSTED, 'Bandwidth exhausted or memory limit exceeded');
    if (rstCode !== undefined && rstCode !== 0) return new UnaryCallError(GrpcStatus.INTERNAL, `Received RST_STREAM with code ${rstCode}`);
    return new UnaryCallError(GrpcStatus.UNKNOWN, 'Response ended without a gRPC status');
  }

  /** The single length-prefixed message of a unary response; decoded only when the caller reads it. */
  private decode(method: MethodCodec, chunks: Buffer[], decode: boolean): unknown {
    const data = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    if (data.length < GRPC_FRAME_HEADER_BYTES) throw new UnaryCallError(GrpcStatus.INTERNAL, 'No message received');
    if (data[0] !== 0) throw new UnaryCallError(GrpcStatus.INTERNAL, 'Received a compressed message without asking for compression');
    const length = data.readUInt32BE(1);
    if (data.length !== GRPC_FRAME_HEADER_BYTES + length) throw new UnaryCallError(GrpcStatus.INTERNAL, 'Unary response does not hold exactly one message');
    if (!decode) return undefined;
    try {
      return method.deserialize(data.subarray(GRPC_FRAME_HEADER_BYTES));
    } catch (err) {
      throw new UnaryCallError(GrpcStatus.INTERNAL, `Response message parsing error: ${(err as Error).message}`);
    }
  }

  /** Closes the session gracefully: calls on the wire finish (as grpc-js's channel.close()), no new ones start on it. */
  close(): void {
    const session = this.session;
    this.session = undefined;
    session?.close();
  }
}
