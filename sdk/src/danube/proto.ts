import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { sdkPackageRoot } from '../package-root.js';
import { grpcFrame } from './grpc-framing.js';
import { StreamMessageEncoder } from './stream-message-encoder.js';

/**
 * Loader options shared by the client and the TestBroker, so both see identical JS shapes:
 * - keepCase: field names exactly as in the .proto (snake_case), matching the protocol document;
 * - longs: String: every uint64 (random 64-bit producer/consumer ids, offsets) stays a decimal string;
 * - enums: String: enum values read as their names ("Reliable"), and either form is accepted on write;
 * - defaults: true fills plain fields, but proto3 `optional` fields stay absent when unset, because
 *   protobufjs models them as one-member oneofs, which never get defaults (docs/danube-protocol.md §2.5).
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

export interface DanubeGrpcPackages {
  danube: grpc.GrpcObject;
  danube_schema: grpc.GrpcObject;
  danube_admin: grpc.GrpcObject;
}

let cached: DanubeGrpcPackages | undefined;
/** Per method path, a serializer that writes the gRPC length-prefixed request in one pass (SendMessage's). */
const frameWriters = new Map<string, (request: unknown) => Buffer>();

/** The folder holding our .proto files (shipped in the package beside dist/). */
function protoDir(): string {
  const dir = join(sdkPackageRoot(), 'proto');
  if (!existsSync(join(dir, 'DanubeApi.proto'))) throw new Error(`Danube .proto files missing from ${dir}: the @danube-connect/sdk package is incomplete`);
  return dir;
}

/** Loads the three Danube protos once per process. */
function loadDanubeProtos(): DanubeGrpcPackages {
  if (cached) return cached;
  const dir = protoDir();
  const definition = protoLoader.loadSync(
    ['DanubeApi.proto', 'SchemaRegistry.proto', 'DanubeAdmin.proto'].map((f) => join(dir, f)),
    PROTO_LOADER_OPTIONS,
  );
  // Every SendMessage the SDK writes, on either transport, goes through the hand encoder (stream-message-encoder.ts):
  // grpc-js's generated client and methodCodec both read the serializer from this definition.
  const sendMessage = (definition['danube.ProducerService'] as protoLoader.ServiceDefinition).SendMessage as protoLoader.MethodDefinition<object, object>;
  const encoder = new StreamMessageEncoder(sendMessage.requestSerialize as (request: unknown) => Buffer);
  sendMessage.requestSerialize = (request: object) => encoder.encode(request);
  frameWriters.set(sendMessage.path, (request) => encoder.encodeFrame(request));
  const root = grpc.loadPackageDefinition(definition);
  cached = {
    danube: root.danube as grpc.GrpcObject,
    danube_schema: root.danube_schema as grpc.GrpcObject,
    danube_admin: root.danube_admin as grpc.GrpcObject,
  };
  return cached;
}

/** A service's generated client constructor (e.g. `serviceClient('danube', 'ProducerService')`). */
export function serviceClient(pkg: keyof DanubeGrpcPackages, service: string): grpc.ServiceClientConstructor {
  const ctor = loadDanubeProtos()[pkg][service];
  if (typeof ctor !== 'function') throw new Error(`service ${pkg}.${service} missing from the Danube protos`);
  return ctor as grpc.ServiceClientConstructor;
}

/** A service's definition, for `server.addService` in the TestBroker. */
export function serviceDefinition(pkg: keyof DanubeGrpcPackages, service: string): grpc.ServiceDefinition {
  return serviceClient(pkg, service).service;
}

/**
 * The path and codec of one unary or server-streaming method, for the http2 transport (issue 16): `frame` gives
 * the length-prefixed request (SendMessage's written in one pass, the others framed after serializing). The same
 * serializers grpc-js uses (proto-loader's; the SendMessage request's is the hand encoder installed above), so
 * both transports put identical bytes on the wire and hand callers identical objects; the hand-written `wire.ts`
 * types stay the shapes callers see (package boundaries: no generated code).
 */
export function methodCodec(
  pkg: keyof DanubeGrpcPackages,
  service: string,
  method: string,
  kind: 'unary' | 'server-stream',
): { path: string; frame(request: unknown): Buffer; deserialize(bytes: Buffer): unknown } {
  const definition = serviceDefinition(pkg, service)[method];
  if (!definition || definition.requestStream || definition.responseStream !== (kind === 'server-stream')) {
    throw new Error(`${kind} RPC ${pkg}.${service}/${method} missing from the Danube protos`);
  }
  const serialize = definition.requestSerialize;
  return { path: definition.path, frame: frameWriters.get(definition.path) ?? ((request) => grpcFrame(serialize(request))), deserialize: definition.responseDeserialize };
}
