// The bare node:http2 baselines of issue 16: gRPC framing by hand (5-byte prefix, `te: trailers`, grpc-status
// from the trailers or a trailers-only response) and nothing else: no deadline, no headers beyond the required, no
// checks, no backpressure. Messages are (de)serialized with proto-loader's codec, so the bytes and the decoded
// objects equal the other variants'. Its socket has Nagle off (TCP_NODELAY), as grpc-js's and our transport's do:
// left on, Nagle coalesces the loop's writes and saved it ~2.5 µs of kernel time per message at 64 in flight
// (fresh-process A/B, 7 runs). gRPC clients turn it off: a request written behind unacknowledged bytes waits for
// the peer's (possibly delayed) ACK.
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { danubeApi } from './lib.js';

function definition(service, method) {
  return danubeApi()[service].service[method];
}

function open(session, path, request, serialize) {
  const body = serialize(request);
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame[0] = 0;
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
  stream.end(frame);
  return stream;
}

/** One session to `serviceUrl` for unary calls and server streams, as our http2 transport shares one. */
export function bareHttp2Session(serviceUrl) {
  const session = http2.connect(serviceUrl, { createConnection: (url) => net.connect({ host: url.hostname, port: Number(url.port), noDelay: true }) });
  /** `call(request)` resolves on grpc-status 0. */
  const unary = (service, method) => {
    const { path, requestSerialize } = definition(service, method);
    return (request) =>
      new Promise((resolve, reject) => {
        const stream = open(session, path, request, requestSerialize);
        let status;
        stream.on('response', (headers) => {
          if (headers['grpc-status'] !== undefined) status = headers['grpc-status'];
        });
        stream.on('trailers', (trailers) => {
          status = trailers['grpc-status'];
        });
        stream.on('data', () => {});
        stream.on('error', () => {});
        stream.on('close', () => (status === '0' ? resolve() : reject(new Error(`grpc-status ${status}`))));
      });
  };
  /** Calls `onMessage` with each decoded message of the stream; returns its node:http2 stream (cancel = close()). */
  const serverStream = (service, method, request, onMessage) => {
    const { path, requestSerialize, responseDeserialize } = definition(service, method);
    const stream = open(session, path, request, requestSerialize);
    let rest = Buffer.alloc(0);
    stream.on('data', (chunk) => {
      let data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
      while (data.length >= 5) {
        const end = 5 + data.readUInt32BE(1);
        if (data.length < end) break;
        onMessage(responseDeserialize(data.subarray(5, end)));
        data = data.subarray(end);
      }
      rest = data;
    });
    stream.on('error', () => {});
    return stream;
  };
  return { unary, serverStream, close: () => session.close() };
}

/** One session to `serviceUrl`; `call(request)` resolves on grpc-status 0. */
export function bareHttp2Unary(serviceUrl, service, method) {
  const session = bareHttp2Session(serviceUrl);
  return { call: session.unary(service, method), close: session.close };
}
