import { describe, expect, it } from 'vitest';
import { brokerIdentity, findEndpointLoops, valuesAt, type EndpointOwner, type PluginEndpoint } from '../../src/config/endpoint-loops.js';

// The endpoints source-mqtt and sink-mqtt declare in their manifests (plugins/*/package.json).
const SOURCE: PluginEndpoint[] = [{ system: 'mqtt', address: ['/url', '/servers'], reads: ['/routes/*/from'] }];
const SINK: PluginEndpoint[] = [{ system: 'mqtt', address: ['/url', '/servers'], writes: ['/routes/*/to'] }];

const source = (name: string, config: Record<string, unknown>): EndpointOwner => ({ name, endpoints: SOURCE, config });
const sink = (name: string, config: Record<string, unknown>): EndpointOwner => ({ name, endpoints: SINK, config });

describe('valuesAt', () => {
  it('walks keys and every element of an array at *, and spreads a list at the end', () => {
    const config = { url: 'mqtt://a:1883', servers: ['mqtt://b:1883', 'mqtt://c:1883'], routes: [{ from: 'x/#' }, { to: 'y' }, { from: 'z' }] };
    expect(valuesAt(config, '/url')).toEqual([{ path: ['url'], value: 'mqtt://a:1883' }]);
    expect(valuesAt(config, '/servers').map((v) => v.path)).toEqual([
      ['servers', 0],
      ['servers', 1],
    ]);
    expect(valuesAt(config, '/routes/*/from')).toEqual([
      { path: ['routes', 0, 'from'], value: 'x/#' },
      { path: ['routes', 2, 'from'], value: 'z' },
    ]);
    expect(valuesAt(config, '/missing/*/x')).toEqual([]);
    expect(valuesAt({ routes: 'not a list' }, '/routes/*/from')).toEqual([]);
  });
});

describe('brokerIdentity', () => {
  it('is host and port, with the default port of the scheme and one name for loopback', () => {
    expect(brokerIdentity('mqtt://Broker.example:1883')?.identity).toBe('broker.example:1883');
    expect(brokerIdentity('mqtt://broker.example')?.identity).toBe('broker.example:1883');
    expect(brokerIdentity('mqtts://broker.example')?.identity).toBe('broker.example:8883');
    expect(brokerIdentity('wss://broker.example/mqtt')?.identity).toBe('broker.example:443');
    expect(brokerIdentity('mqtt://localhost:1883')?.identity).toBe(brokerIdentity('mqtt://127.0.0.1:1883')?.identity);
    expect(brokerIdentity('mqtt://[::1]:1883')?.identity).toBe('loopback:1883');
    expect(brokerIdentity('not a url')).toBeUndefined();
  });

  it('shows host and port, never the credentials', () => {
    expect(brokerIdentity('mqtt://user:s3cret@broker.example:1884')?.shown).toBe('broker.example:1884');
  });
});

describe('findEndpointLoops', () => {
  const reader = source('mqtt-in', { url: 'mqtt://127.0.0.1:1883', routes: [{ from: 'sensors/#' }, { from: 'commands/+' }] });

  it('reports a sink publishing where a source subscribes on the same broker, naming both paths and the broker', () => {
    const writer = sink('mqtt-out', { url: 'mqtt://localhost:1883', routes: [{ to: 'results/{key}' }, { to: 'sensors/{attr:mqtt.topic}' }] });
    expect(findEndpointLoops([reader, writer])).toEqual([
      {
        writer: 'mqtt-out',
        path: ['routes', 1, 'to'],
        reader: 'mqtt-in',
        message:
          '"sensors/{attr:mqtt.topic}" publishes mqtt topics that connector "mqtt-in" subscribes to with "sensors/#" (config/routes/0/from) on the same broker localhost:1883: ' +
          'what this connector publishes there comes back into Danube, and loops if it reaches this connector again',
      },
    ]);
  });

  it('finds a shared broker through either side\'s servers list', () => {
    const writer = sink('mqtt-out', { servers: ['mqtt://other:1883', 'mqtt://127.0.0.1:1883'], routes: [{ to: 'commands/{key}' }] });
    expect(findEndpointLoops([writer, reader]).map((loop) => [loop.writer, loop.path.join('/'), loop.reader])).toEqual([['mqtt-out', 'routes/0/to', 'mqtt-in']]);
  });

  it('is silent for other brokers, other ports, topics apart, a connector alone and systems it cannot compare', () => {
    const apart = sink('apart', { url: 'mqtt://127.0.0.1:1883', routes: [{ to: 'results/{key}' }, { to: 'commands/a/b' }] });
    const otherBroker = sink('other-broker', { url: 'mqtt://broker.example:1883', routes: [{ to: 'sensors/x' }] });
    const otherPort = sink('other-port', { url: 'mqtt://127.0.0.1:1884', routes: [{ to: 'sensors/x' }] });
    const both: EndpointOwner = { name: 'both', endpoints: [...SOURCE, ...SINK], config: { url: 'mqtt://10.0.0.1:1883', routes: [{ from: 'a/#', to: 'a/b' }] } };
    const kafka: EndpointOwner[] = [
      { name: 'k-in', endpoints: [{ system: 'kafka', address: ['/url'], reads: ['/topic'] }], config: { url: 'kafka://k:9092', topic: 't' } },
      { name: 'k-out', endpoints: [{ system: 'kafka', address: ['/url'], writes: ['/topic'] }], config: { url: 'kafka://k:9092', topic: 't' } },
    ];
    expect(findEndpointLoops([reader, apart, otherBroker, otherPort, both, ...kafka])).toEqual([]);
  });
});
