// The bare node:http2 unary baseline of issue 16: gRPC framing by hand (5-byte prefix, `te: trailers`, grpc-status
// from the trailers or a trailers-only response) and nothing else: no deadline, no headers beyond the required, no
// response decoding. Requests are serialized with proto-loader's codec, so the bytes equal the other variants'.
import * as http2 from 'node:http2';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ROOT } from './lib.js';

const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, bytes: Buffer, defaults: true, oneofs: true };

/** One session to `serviceUrl`; `call(request)` resolves on grpc-status 0. */
export function bareHttp2Unary(serviceUrl, service, method) {
  const def = protoLoader.loadSync(join(ROOT, 'sdk/proto/DanubeApi.proto'), LOADER_OPTIONS);
  const { path, requestSerialize } = grpc.loadPackageDefinition(def).danube[service].service[method];
  const session = http2.connect(serviceUrl);
  const call = (request) =>
    new Promise((resolve, reject) => {
      const body = requestSerialize(request);
      const frame = Buffer.allocUnsafe(5 + body.length);
      frame[0] = 0;
      frame.writeUInt32BE(body.length, 1);
      body.copy(frame, 5);
      const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
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
      stream.end(frame);
    });
  return { call, close: () => session.close() };
}
