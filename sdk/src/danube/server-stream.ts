/**
 * What a consumer reads its ReceiveMessages stream through: grpc-js's ClientReadableStream and the http2
 * transport's Http2ServerStream both satisfy it. 'error' carries a gRPC status as `code` + `details` (mapped by
 * fromGrpcError); after 'end' or 'error' nothing more is emitted.
 */
export interface ServerStream<T> {
  on(event: 'data', listener: (message: T) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'end', listener: () => void): this;
  /** Stops delivering; HTTP/2 flow control then stops the broker once the windows fill. */
  pause(): unknown;
  resume(): unknown;
  /** Ends the call (RST_STREAM CANCEL): the broker marks the consumer inactive (docs/danube-protocol.md §9.2). */
  cancel(): void;
}
