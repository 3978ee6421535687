import { EventEmitter } from 'node:events';
import * as http2 from 'node:http2';
import { GRPC_FRAME_HEADER_BYTES, statusOfResponseHeaders, statusOfTrailers } from './grpc-framing.js';
import { GrpcStatus } from './grpc-status.js';
import type { ServerStream } from './server-stream.js';
import { UnaryCallError } from './unary-call-error.js';

const { NGHTTP2_CANCEL } = http2.constants;

function ignore(): void {}

/**
 * The reading side of one server-streaming call on the http2 transport (ReceiveMessages, issue 16). DATA frames
 * are cut into length-prefixed messages wherever their boundaries fall (a message split across frames, several
 * in one frame, docs/danube-protocol.md §2.8); each is decoded with proto-loader's deserializer, the one grpc-js
 * uses, and emitted as 'data'. `pause()` stops delivery and reading: unread bytes then hold back our
 * WINDOW_UPDATEs, so flow control stops the broker. The end is 'end' for grpc-status 0, else one 'error'
 * (UnaryCallError, as grpc-js's ServiceError) from the trailers, a trailers-only response, RST_STREAM or the
 * session's loss, emitted after every message received before it.
 */
export class Http2ServerStream<T> extends EventEmitter implements ServerStream<T> {
  private status: number | undefined;
  private details = '';
  /** Bytes of a message not yet complete, and how many bytes that message (prefix included) needs. */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private needed = GRPC_FRAME_HEADER_BYTES;
  /** Whole messages not yet delivered (while paused, or behind a message being delivered). */
  private readonly queue: Buffer[] = [];
  private head = 0;
  private paused = false;
  private draining = false;
  private cancelled = false;
  /** undefined while open; null for a clean end; the error otherwise. */
  private outcome: UnaryCallError | null | undefined;
  private finished = false;

  constructor(
    private readonly stream: http2.ClientHttp2Stream | undefined,
    private readonly deserialize: (bytes: Buffer) => T,
    private readonly maxReceiveMessageBytes: number,
    /** Why the stream closed without a gRPC status (connection lost, RST_STREAM), as the unary calls say it. */
    private readonly noStatus: (rstCode: number | undefined) => UnaryCallError,
  ) {
    super();
    if (!stream) return;
    stream.on('response', (headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader) => this.onResponse(headers));
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('trailers', (trailers: http2.IncomingHttpHeaders) => this.onTrailers(trailers));
    // Stream errors (RST_STREAM, connection loss) are read from rstCode and the session on 'close'.
    stream.on('error', ignore);
    stream.on('close', () => this.onClose());
  }

  /**
   * A call that could not start: its one event is this error, emitted later as grpc-js does (setImmediate, so
   * that a caller awaiting the stream has attached its listeners).
   */
  static failed<T>(error: UnaryCallError): Http2ServerStream<T> {
    const stream = new Http2ServerStream<T>(undefined, () => undefined as T, 0, () => error);
    stream.outcome = error;
    setImmediate(() => stream.drain());
    return stream;
  }

  pause(): this {
    this.paused = true;
    this.stream?.pause();
    return this;
  }

  resume(): this {
    if (!this.paused) return this;
    this.paused = false;
    this.drain();
    if (!this.paused) this.stream?.resume();
    return this;
  }

  /** RST_STREAM CANCEL; messages not yet delivered are dropped, and the stream ends with CANCELLED, as grpc-js's. */
  cancel(): void {
    if (this.cancelled || this.finished) return;
    this.cancelled = true;
    this.queue.length = 0;
    this.head = 0;
    this.partial = [];
    this.partialBytes = 0;
    if (this.stream && !this.stream.closed) this.stream.close(NGHTTP2_CANCEL);
    else this.close(new UnaryCallError(GrpcStatus.CANCELLED, 'Cancelled on client'));
  }

  private onResponse(headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader): void {
    const line = statusOfResponseHeaders(headers);
    if (!line) return;
    this.status = line.code;
    this.details = line.details;
  }

  private onTrailers(trailers: http2.IncomingHttpHeaders): void {
    const line = statusOfTrailers(trailers);
    this.status = line.code;
    this.details = line.details;
  }

  private onData(chunk: Buffer): void {
    if (this.outcome !== undefined || this.cancelled) return;
    let data = chunk;
    if (this.partialBytes > 0) {
      // Collected until the message is whole, then joined once: a 1 MiB message in 16 KiB frames is one copy.
      this.partial.push(chunk);
      this.partialBytes += chunk.length;
      if (this.partialBytes < this.needed) return;
      data = Buffer.concat(this.partial, this.partialBytes);
      this.partial = [];
      this.partialBytes = 0;
    }
    let offset = 0;
    while (data.length - offset >= GRPC_FRAME_HEADER_BYTES) {
      if (data[offset] !== 0) {
        this.fail(new UnaryCallError(GrpcStatus.INTERNAL, 'Received a compressed message without asking for compression'));
        return;
      }
      const length = data.readUInt32BE(offset + 1);
      if (length > this.maxReceiveMessageBytes) {
        // grpc-js's wording, so fromGrpcError maps it alike.
        this.fail(new UnaryCallError(GrpcStatus.RESOURCE_EXHAUSTED, `Received message larger than max (${length} vs ${this.maxReceiveMessageBytes})`));
        return;
      }
      const end = offset + GRPC_FRAME_HEADER_BYTES + length;
      if (end > data.length) break;
      this.queue.push(data.subarray(offset + GRPC_FRAME_HEADER_BYTES, end));
      offset = end;
    }
    if (offset < data.length) {
      const rest = data.subarray(offset);
      this.partial = [rest];
      this.partialBytes = rest.length;
      this.needed = rest.length < GRPC_FRAME_HEADER_BYTES ? GRPC_FRAME_HEADER_BYTES : GRPC_FRAME_HEADER_BYTES + rest.readUInt32BE(1);
    }
    this.drain();
  }

  private onClose(): void {
    if (this.outcome !== undefined) {
      this.drain();
      return;
    }
    const stream = this.stream as http2.ClientHttp2Stream;
    if (this.cancelled) this.close(new UnaryCallError(GrpcStatus.CANCELLED, 'Cancelled on client'));
    else if (this.status === undefined) this.close(this.noStatus(stream.rstCode));
    else if (this.status !== GrpcStatus.OK) this.close(new UnaryCallError(this.status, this.details));
    else if (this.partialBytes > 0) this.close(new UnaryCallError(GrpcStatus.INTERNAL, 'Stream ended in the middle of a message'));
    else this.close(null);
  }

  /** A local failure (oversized, undecodable, compressed): the call is cancelled, the error follows what came before. */
  private fail(error: UnaryCallError): void {
    this.partial = [];
    this.partialBytes = 0;
    this.outcome = error;
    if (this.stream && !this.stream.closed) this.stream.close(NGHTTP2_CANCEL);
    this.drain();
  }

  private close(outcome: UnaryCallError | null): void {
    this.outcome = outcome;
    this.drain();
  }

  /** Delivers queued messages until paused or empty; then, once the call is over, its one final event. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (!this.paused && this.head < this.queue.length && !this.cancelled) {
        const body = this.queue[this.head++] as Buffer;
        let message: T;
        try {
          message = this.deserialize(body);
        } catch (err) {
          this.queue.length = 0;
          this.head = 0;
          if (this.outcome === undefined) this.fail(new UnaryCallError(GrpcStatus.INTERNAL, `Response message parsing error: ${(err as Error).message}`));
          break;
        }
        this.emit('data', message);
      }
    } finally {
      this.draining = false;
    }
    if (this.head < this.queue.length) return;
    this.queue.length = 0;
    this.head = 0;
    if (this.outcome === undefined || this.finished) return;
    this.finished = true;
    if (this.outcome === null) this.emit('end');
    else this.emit('error', this.outcome);
  }
}
