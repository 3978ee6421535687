import { join } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { methodCodec, PROTO_LOADER_OPTIONS, serviceClient } from '../../src/danube/proto.js';
import { StreamMessageEncoder } from '../../src/danube/stream-message-encoder.js';
import { sdkPackageRoot } from '../../src/package-root.js';

// The reference: protobufjs through a loader of our own, with the SDK's options, untouched by the SDK's patch.
const definition = protoLoader.loadSync(join(sdkPackageRoot(), 'proto', 'DanubeApi.proto'), PROTO_LOADER_OPTIONS);
const reference = (definition['danube.ProducerService'] as protoLoader.ServiceDefinition).SendMessage as protoLoader.MethodDefinition<object, object>;
const protobufjs = (request: unknown) => reference.requestSerialize(request as object);
const decode = (bytes: Buffer) => reference.requestDeserialize(bytes) as Record<string, unknown>;

/** A gRPC length-prefixed message, written here independently of grpc-framing.ts: flag 0, big-endian length. */
function framed(body: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(body.length, 1);
  return Buffer.concat([prefix, body]);
}

/** A seeded generator (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABETS = ['abcdefghij/-_.', 'äöüßé€', '日本語テキスト', '🚀🛰️👩‍💻', '\u0000\u007f\u0080\u07ff\u0800\uffff'];

function text(next: () => number, maxLength: number): string {
  const alphabet = Array.from(ALPHABETS[Math.floor(next() * ALPHABETS.length)] as string);
  const length = Math.floor(next() * maxLength);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(next() * alphabet.length)];
  return out;
}

function wholeNumber(next: () => number): number {
  const sizes = [0, 1, 127, 128, 16_383, 16_384, 2 ** 31, 2 ** 32, 1_764_000_000_000, Number.MAX_SAFE_INTEGER];
  const pick = sizes[Math.floor(next() * sizes.length)] as number;
  return next() < 0.5 ? pick : Math.floor(next() * pick);
}

/** Frozen attributes objects shared between messages, as source-mqtt shares one per topic: the encoder keeps their bytes. */
const sharedAttributes: Readonly<Record<string, string>>[] = [];

function message(next: () => number, msgId: object): Record<string, unknown> {
  let attributes: Record<string, string> = {};
  const count = Math.floor(next() * 6);
  for (let i = 0; i < count; i++) attributes[next() < 0.2 ? String(Math.floor(next() * 100)) : text(next, 40)] = text(next, next() < 0.1 ? 300 : 30);
  const share = next();
  if (share < 0.2 && sharedAttributes.length > 0) attributes = sharedAttributes[Math.floor(next() * sharedAttributes.length)] as Record<string, string>;
  else if (share < 0.4) sharedAttributes.push(Object.freeze(attributes));
  const payloadBytes = [0, 1, 127, 128, 1024, 20_000, 300_000][Math.floor(next() * 7)] as number;
  const payload = Buffer.alloc(payloadBytes, Math.floor(next() * 256));
  const m: Record<string, unknown> = {
    request_id: wholeNumber(next),
    msg_id: msgId,
    payload,
    publish_time: wholeNumber(next),
    producer_name: text(next, 20),
    subscription_name: next() < 0.8 ? '' : text(next, 10),
    attributes,
  };
  if (next() < 0.3) m.routing_key = text(next, 20);
  if (next() < 0.3) {
    m.schema_id = String(wholeNumber(next));
    m.schema_version = Math.floor(next() * 2 ** 32);
  }
  return m;
}

describe('StreamMessageEncoder', () => {
  // Counts what was left to protobufjs, so a fast path that never runs cannot pass for one that writes right.
  let fallbacks = 0;
  const encoder = new StreamMessageEncoder((request) => {
    fallbacks++;
    return protobufjs(request);
  });

  it('writes the bytes protobufjs writes for the shape the producer sends (2,000 seeded random messages)', () => {
    const next = random(16);
    const ids = [
      { producer_id: '0', topic_name: '/default/t', broker_addr: 'http://127.0.0.1:6650', topic_offset: 0 },
      { producer_id: '18446744073709551615', topic_name: '/ns/äöü-part-3', broker_addr: 'https://broker-1.example:6650', topic_offset: 0 },
      { producer_id: '9007199254740993', topic_name: `/ns/${'x'.repeat(200)}`, broker_addr: '', topic_offset: 5 },
    ];
    fallbacks = 0;
    for (let i = 0; i < 2000; i++) {
      const m = message(next, ids[i % ids.length] as object);
      const ours = encoder.encode(m);
      const theirs = protobufjs(m);
      if (!ours.equals(theirs)) expect({ i, ours: ours.toString('hex') }).toEqual({ i, ours: theirs.toString('hex') });
      // The http2 transport's one-pass frame: the same message behind its prefix.
      const frame = encoder.encodeFrame(m);
      if (!frame.equals(framed(theirs))) expect({ i, frame: frame.toString('hex') }).toEqual({ i, frame: framed(theirs).toString('hex') });
    }
    expect(fallbacks).toBe(0);
  });

  it('reads each message-id object once: the same object gives the same bytes, a new one its own', () => {
    const id = { producer_id: '7', topic_name: '/default/a', broker_addr: 'http://b:1', topic_offset: 0 };
    const base = { request_id: 1, payload: Buffer.from('x'), publish_time: 2, producer_name: 'p', subscription_name: '', attributes: {} };
    const first = encoder.encode({ ...base, msg_id: id });
    expect(encoder.encode({ ...base, msg_id: id })).toEqual(first);
    const other = encoder.encode({ ...base, msg_id: { ...id, producer_id: '8' } });
    expect((decode(other).msg_id as Record<string, unknown>).producer_id).toBe('8');
    expect((decode(first).msg_id as Record<string, unknown>).producer_id).toBe('7');
  });

  it('keeps the bytes of frozen attributes only: an accessor is read on every message, an unfrozen object is read again', () => {
    const id = { producer_id: '7', topic_name: '/default/a', broker_addr: 'http://b:1', topic_offset: 0 };
    const base = { request_id: 1, msg_id: id, payload: Buffer.from('x'), publish_time: 2, producer_name: 'p', subscription_name: '' };
    let reading = 0;
    const changing = Object.freeze({ fixed: 'a', get counter() { return String(++reading); } });
    for (const expected of ['1', '2']) expect(decode(encoder.encode({ ...base, attributes: changing })).attributes).toEqual({ fixed: 'a', counter: expected });
    const open: Record<string, string> = { k: 'before' };
    encoder.encode({ ...base, attributes: open });
    open.k = 'after';
    expect(decode(encoder.encode({ ...base, attributes: open })).attributes).toEqual({ k: 'after' });
    fallbacks = 0;
    const frozenBad = Object.freeze({ a: 5 });
    for (let i = 0; i < 2; i++) expect(encoder.encode({ ...base, attributes: frozenBad })).toEqual(protobufjs({ ...base, attributes: frozenBad }));
    expect(fallbacks).toBe(2);
  });

  it('leaves every other shape to protobufjs, with its bytes', () => {
    const id = { producer_id: '7', topic_name: '/default/a', broker_addr: 'http://b:1', topic_offset: 0 };
    const base = { request_id: 3, msg_id: id, payload: Buffer.from('abc'), publish_time: 4, producer_name: 'p', subscription_name: '', attributes: { a: 'b' } };
    const shapes: Array<Record<string, unknown>> = [
      { ...base, request_id: '3' },
      { ...base, publish_time: '1764000000000' },
      { ...base, msg_id: null },
      { ...base, payload: new Uint8Array([1, 2, 3]) },
      { ...base, attributes: { a: 5 } },
      { ...base, schema_version: -1 },
      { ...base, msg_id: { ...id, producer_id: '18446744073709551616' } },
      { ...base, routing_key: null },
      { request_id: 1 },
    ];
    fallbacks = 0;
    for (const shape of shapes) expect(encoder.encode(shape)).toEqual(protobufjs(shape));
    expect(fallbacks).toBe(shapes.length);
    for (const shape of shapes) expect(encoder.encodeFrame(shape)).toEqual(framed(protobufjs(shape)));
    // uint64s as numbers or decimal strings, wherever they sit, are written here, with the same bytes.
    const alsoOurs = [{ ...base, msg_id: { ...id, producer_id: 7 } }, { ...base, msg_id: { ...id, topic_offset: '12' } }, { ...base, schema_id: 99, schema_version: 1 }];
    fallbacks = 0;
    for (const shape of alsoOurs) expect(encoder.encode(shape)).toEqual(protobufjs(shape));
    expect(fallbacks).toBe(0);
  });

  it('writes a lone surrogate as U+FFFD, which is UTF-8 (protobufjs writes the surrogate itself)', () => {
    const m = { request_id: 1, msg_id: { producer_id: '1', topic_name: '/d/t', broker_addr: 'x', topic_offset: 0 }, payload: Buffer.alloc(0), publish_time: 1, producer_name: 'p', subscription_name: '', attributes: { k: 'a\ud800b' } };
    const bytes = encoder.encode(m);
    expect(bytes.includes(Buffer.from('a\ufffdb', 'utf8'))).toBe(true);
    expect(decode(bytes).attributes).toEqual({ k: 'a\ufffdb' });
  });

  it('is the SendMessage serializer of the SDK on both transports', () => {
    const m = message(random(7), { producer_id: '42', topic_name: '/default/t', broker_addr: 'http://127.0.0.1:6650', topic_offset: 0 });
    const codec = methodCodec('danube', 'ProducerService', 'SendMessage', 'unary');
    expect(codec.frame(m)).toEqual(framed(protobufjs(m)));
    // Shapes protobufjs would write differently from us prove it is ours that runs: the lone surrogate.
    const lone = { ...m, attributes: { k: '\udc00' } };
    const ours = new StreamMessageEncoder(protobufjs).encode(lone);
    expect(ours).not.toEqual(protobufjs(lone));
    expect(codec.frame(lone)).toEqual(framed(ours));
    // grpc-js's generated client reads the same definition.
    expect(serviceClient('danube', 'ProducerService').service.SendMessage?.requestSerialize(lone)).toEqual(ours);
  });
});
