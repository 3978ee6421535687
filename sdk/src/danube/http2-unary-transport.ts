import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { BrokerAddress } from './broker-url.js';
import { GrpcStatus } from './grpc-status.js';
import { UnaryCallError, statusFromHttp } from './unary-call-error.js';

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

/** One unary method: its HTTP/2 path and the proto-loader codec of its messages. */
export interface UnaryMethodCodec {
  path: string;
  serialize(request: unknown): Buffer;
  deserialize(bytes: Buffer): unknown;
}

// Windows: what we may receive without a round trip: a whole 16 MiB message per stream, 64 MiB per connection,
// so concurrent calls never wait on our WINDOW_UPDATEs. (What we send is paced by the broker's windows, which
// it reopens as it reads.) Session memory is unbounded as in grpc-js: the callers' in-flight windows bound it.
const STREAM_WINDOW_BYTES = 16 * 1024 * 1024;
const SESSION_WINDOW_BYTES = 64 * 1024 * 1024;
const GRPC_FRAME_HEADER_BYTES = 5;
const MAX_TIMEOUT_DIGITS = 99_999_999; // grpc-timeout allows at most 8 digits (gRPC over HTTP/2 spec)
const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

function grpcTimeout(ms: number): string {
  const whole = Math.max(1, Math.ceil(ms));
  return whole <= MAX_TIMEOUT_DIGITS ? `${whole}m` : `${Math.min(MAX_TIMEOUT_DIGITS, Math.ceil(whole / 1000))}S`;
}

/** grpc-message is percent-encoded (gRPC over HTTP/2 spec); a malformed escape leaves the text as sent. */
function decodeGrpcMessage(value: unknown): string {
  if (typeof value !== 'string') return '';
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * A lean gRPC unary client on node:http2 for the two hot calls, SendMessage and Ack (issue 16): one HTTP/2
 * session to one broker address, re-established on the next call after GOAWAY or connection loss. Each call is
 * one stream: HEADERS, one length-prefixed DATA frame, and the status from the trailers or from a trailers-only
 * response. Failures come out as UnaryCallError (code + details, as a grpc-js ServiceError), so fromGrpcError
 * maps both transports through the same table. Nothing is retried here: a call that fails on a dropped
 * connection or a refused stream fails UNAVAILABLE (retryable) and the client's retry layer decides.
 */
export class Http2UnaryTransport {
  private session: http2.ClientHttp2Session | undefined;
  private lastSessionError: string | undefined;
  private calls = 0;
  private sessionsOpened = 0;

  constructor(
    private readonly address: BrokerAddress,
    private readonly options: Http2UnaryTransportOptions,
  ) {}

  /** Calls on the wire now (for tests that count what a call leaves behind). */
  get inFlight(): number {
    return this.calls;
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

  /**
   * One unary call. `authorization` and `proxyBrokerUrl` become the `authorization` and `x-danube-broker-url`
   * headers when set (protocol §2.4); `timeoutMs` is the deadline, sent as grpc-timeout and enforced locally.
   * Rejects with UnaryCallError.
   */
  unary(
    method: UnaryMethodCodec,
    request: unknown,
    authorization: string | undefined,
    proxyBrokerUrl: string | undefined,
    timeoutMs: number | undefined,
  ): Promise<unknown> {
    let body: Buffer;
    try {
      body = method.serialize(request);
    } catch (err) {
      return Promise.reject(new UnaryCallError(GrpcStatus.INTERNAL, `Request message serialization failure: ${(err as Error).message}`));
    }
    if (body.length > this.options.maxSendMessageBytes) {
      return Promise.reject(
        new UnaryCallError(GrpcStatus.RESOURCE_EXHAUSTED, `Sent message larger than max (${body.length} vs. ${this.options.maxSendMessageBytes})`),
      );
    }
    const frame = Buffer.allocUnsafe(GRPC_FRAME_HEADER_BYTES + body.length);
    frame[0] = 0; // not compressed
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, GRPC_FRAME_HEADER_BYTES);

    // Only what gRPC requires plus our two headers: every header costs on both ends of every call.
    const requestHeaders: http2.OutgoingHttpHeaders = { ':method': 'POST', ':path': method.path, 'content-type': 'application/grpc', te: 'trailers' };
    if (timeoutMs !== undefined) requestHeaders['grpc-timeout'] = grpcTimeout(timeoutMs);
    if (authorization !== undefined) requestHeaders.authorization = authorization;
    if (proxyBrokerUrl !== undefined) requestHeaders['x-danube-broker-url'] = proxyBrokerUrl;

    return new Promise<unknown>((resolve, reject) => {
      let session: http2.ClientHttp2Session;
      let stream: http2.ClientHttp2Stream;
      try {
        session = this.liveSession();
        stream = session.request(requestHeaders, { endStream: false });
      } catch (err) {
        // A session that has just received GOAWAY or died refuses new streams: fail once, retryably.
        this.session = undefined;
        reject(new UnaryCallError(GrpcStatus.UNAVAILABLE, `cannot start a call to ${this.address.target}: ${(err as Error).message}`));
        return;
      }
      if (this.calls++ === 0) session.ref();
      let status: number | undefined;
      let details = '';
      let chunks: Buffer[] = [];
      let received = 0;
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const fail = (error: UnaryCallError) => {
        if (settled) return;
        settled = true;
        reject(error);
        if (!stream.closed) stream.close(NGHTTP2_CANCEL);
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => fail(new UnaryCallError(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded')), timeoutMs);
      }
      stream.on('response', (h) => {
        if (h['grpc-status'] !== undefined) {
          // Trailers-only: the status comes in the response headers and no DATA follows.
          status = Number(h['grpc-status']);
          details = decodeGrpcMessage(h['grpc-message']);
          return;
        }
        const httpStatus = Number(h[':status']);
        if (httpStatus !== 200) {
          status = statusFromHttp(httpStatus);
          details = `Received HTTP status code ${httpStatus}`;
        }
      });
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > this.options.maxReceiveMessageBytes + GRPC_FRAME_HEADER_BYTES) {
          fail(new UnaryCallError(GrpcStatus.RESOURCE_EXHAUSTED, `Received message larger than max (${received - GRPC_FRAME_HEADER_BYTES} vs. ${this.options.maxReceiveMessageBytes})`));
          chunks = [];
          return;
        }
        chunks.push(chunk);
      });
      stream.on('trailers', (t) => {
        status = t['grpc-status'] === undefined ? GrpcStatus.UNKNOWN : Number(t['grpc-status']);
        details = t['grpc-status'] === undefined ? 'Response trailers carry no grpc-status' : decodeGrpcMessage(t['grpc-message']);
      });
      // Stream errors (RST_STREAM, connection loss) are read from rstCode and the session on 'close'.
      stream.on('error', () => {});
      stream.on('close', () => {
        clearTimeout(timer);
        if (--this.calls === 0) this.session?.unref();
        if (settled) return;
        if (status === undefined) {
          fail(this.noStatusError(session, stream.rstCode));
          return;
        }
        if (status !== GrpcStatus.OK) {
          fail(new UnaryCallError(status, details));
          return;
        }
        try {
          settled = true;
          resolve(this.decode(method, chunks));
        } catch (err) {
          reject(err);
        }
      });
      stream.end(frame);
    });
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

  /** The single length-prefixed message of a unary response. */
  private decode(method: UnaryMethodCodec, chunks: Buffer[]): unknown {
    const data = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    if (data.length < GRPC_FRAME_HEADER_BYTES) throw new UnaryCallError(GrpcStatus.INTERNAL, 'No message received');
    if (data[0] !== 0) throw new UnaryCallError(GrpcStatus.INTERNAL, 'Received a compressed message without asking for compression');
    const length = data.readUInt32BE(1);
    if (data.length !== GRPC_FRAME_HEADER_BYTES + length) throw new UnaryCallError(GrpcStatus.INTERNAL, 'Unary response does not hold exactly one message');
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
