import { describe, expect, test } from 'vitest';
import { formatProblem } from '../src/config/config-problem.js';
import { validateHost } from '../src/validate-host.js';
import { FIXTURE_PLUGINS, tempProject, writePlugin } from './temp-project.js';

const TOML = `
[[connectors]]
name = "iot"
plugin = "@fixtures/mqtt-like-source"

[connectors.config]
url = "mqtt://127.0.0.1:1883"
username = "\${MQTT_USER:-guest}"
routes = [{ from = "sensors/#", to = "/default/sensors" }]

[[connectors]]
name = "out"
plugin = "@fixtures/plain-sink"
memory_mb = 128
log_level = "debug"

[connectors.config]
anything = ["goes", 1]

[connectors.processing]
batch_size = 10
dead_letter_topic = "/default/dlq"
on_retry_exhausted = "dead_letter"

[connectors.restart]
max_crashes = 2
`;

function validOrThrow(result: ReturnType<typeof validateHost>) {
  if (!result.ok) throw new Error(result.problems.map((p) => p.message).join('\n'));
  return result;
}

describe('validateHost', () => {
  test('create_namespaces hands the admin URL to every connector, so its child creates a missing namespace', () => {
    const toml = `[danube]\nadmin_url = "http://127.0.0.1:50051"\ncreate_namespaces = true\n${TOML}`;
    const p = tempProject({ 'host.toml': toml }, ['mqtt-like-source', 'plain-sink']);
    const { connectors } = validOrThrow(validateHost('host.toml', { env: {}, cwd: p.dir }));
    expect(connectors.map((c) => c.danube.namespaceAdminUrl)).toEqual(['http://127.0.0.1:50051', 'http://127.0.0.1:50051']);
    const without = tempProject({ 'host.toml': `[danube]\nadmin_url = "http://127.0.0.1:50051"\n${TOML}` }, ['mqtt-like-source', 'plain-sink']);
    const plain = validOrThrow(validateHost('host.toml', { env: {}, cwd: without.dir }));
    expect(plain.connectors.map((c) => c.danube.namespaceAdminUrl)).toEqual([undefined, undefined]);
  });

  test('a good host.toml gives one ConnectorSpec per connector, defaults applied', () => {
    const p = tempProject({ 'host.toml': TOML }, ['mqtt-like-source', 'plain-sink']);
    const { config, connectors } = validOrThrow(validateHost('host.toml', { env: {}, cwd: p.dir }));
    expect(config.host).toEqual({
      http: { host: '127.0.0.1', port: 9464 },
      allowedHosts: [],
      logLevel: 'info',
      shutdownTimeoutMs: 10000,
      readyTimeoutMs: 30000,
      pingIntervalMs: 5000,
      restart: { initialDelayMs: 1000, maxDelayMs: 60000, stableAfterMs: 60000, maxCrashes: 5, windowMs: 300000 },
      danube: { serviceUrl: 'http://127.0.0.1:6650', requestTimeoutMs: 10000 },
      adminUrl: undefined,
      createNamespaces: false,
    });
    const [iot, out] = connectors;
    expect(iot).toEqual({
      name: 'iot',
      plugin: {
        name: '@fixtures/mqtt-like-source',
        version: '1.2.0',
        kind: 'source',
        entry: `${FIXTURE_PLUGINS}/mqtt-like-source/index.js`,
        dir: `${FIXTURE_PLUGINS}/mqtt-like-source`,
        sdkRange: '^0.1.0',
        configSchema: expect.objectContaining({ required: ['url', 'routes'] }),
      },
      config: {
        url: 'mqtt://127.0.0.1:1883',
        username: 'guest',
        client_id: 'danube-connect',
        keepalive_s: 60,
        routes: [{ from: 'sensors/#', to: '/default/sensors', qos: 1, format: 'json' }],
      },
      danube: { serviceUrl: 'http://127.0.0.1:6650', requestTimeoutMs: 10000 },
      runtime: {
        maxInFlight: 64,
        maxRetries: 5,
        retryInitialDelayMs: 200,
        retryMaxDelayMs: 30000,
        onRetryExhausted: 'block',
        pollIntervalMs: 100,
        batchSize: 100,
        batchTimeoutMs: 100,
        maxUnacked: 10,
        drainTimeoutMs: 10000,
      },
      restart: { initialDelayMs: 1000, maxDelayMs: 60000, stableAfterMs: 60000, maxCrashes: 5, windowMs: 300000 },
      memoryMb: undefined,
      readyTimeoutMs: 30000,
      pingIntervalMs: 5000,
      shutdownTimeoutMs: 10000,
      logLevel: 'info',
      secrets: [],
      env: {},
      workDir: p.dir,
      fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(out?.plugin.kind).toBe('sink');
    expect(out?.plugin.version).toBe('0.3.0-beta.1');
    expect(out?.config).toEqual({ anything: ['goes', 1] });
    expect(out?.memoryMb).toBe(128);
    expect(out?.logLevel).toBe('debug');
    expect(out?.runtime).toMatchObject({ batchSize: 10, deadLetterTopic: '/default/dlq', onRetryExhausted: 'dead_letter' });
    expect(out?.restart).toEqual({ initialDelayMs: 1000, maxDelayMs: 60000, stableAfterMs: 60000, maxCrashes: 2, windowMs: 300000 });
  });

  test('the result is frozen', () => {
    const p = tempProject({ 'host.toml': TOML }, ['mqtt-like-source', 'plain-sink']);
    const { config, connectors } = validOrThrow(validateHost('host.toml', { env: {}, cwd: p.dir }));
    expect(Object.isFrozen(config.toml.host)).toBe(true);
    expect(Object.isFrozen(connectors[0]?.config['routes'])).toBe(true);
    expect(Object.isFrozen(connectors[1]?.runtime)).toBe(true);
  });

  test('${NAME} takes the environment over the default; $${ is a literal ${', () => {
    // (a replacer function: in a replacement string, $$ would mean $)
    const toml = TOML.replace('url = "mqtt://127.0.0.1:1883"', () => 'url = "mqtt://${MQTT_HOST}:1883"\nclient_id = "price-$${not-a-var}"');
    const p = tempProject({ 'host.toml': toml }, ['mqtt-like-source', 'plain-sink']);
    const { connectors } = validOrThrow(validateHost('host.toml', { env: { MQTT_HOST: 'broker', MQTT_USER: 'ann' }, cwd: p.dir }));
    expect(connectors[0]?.config).toMatchObject({ url: 'mqtt://broker:1883', username: 'ann', client_id: 'price-${not-a-var}' });
  });

  test('a value that is one whole ${NAME} becomes the integer, number or boolean its key wants; other text stays text', () => {
    const toml = TOML.replace('url = "mqtt://127.0.0.1:1883"', () => 'url = "mqtt://127.0.0.1:1883"\nkeepalive_s = "${KEEPALIVE}"\npassword = "${MQTT_PASSWORD}"')
      .replace('memory_mb = 128', () => 'memory_mb = "${MEMORY_MB:-192}"')
      .replace('batch_size = 10', () => 'batch_size = "${BATCH}"');
    const p = tempProject({ 'host.toml': toml }, ['mqtt-like-source', 'plain-sink']);
    const env = { KEEPALIVE: '30', MQTT_PASSWORD: '12345', BATCH: '25' };
    const { connectors } = validOrThrow(validateHost('host.toml', { env, cwd: p.dir }));
    expect(connectors[0]?.config).toMatchObject({ keepalive_s: 30, password: '12345' });
    expect(connectors[1]?.memoryMb).toBe(192);
    expect(connectors[1]?.runtime).toMatchObject({ batchSize: 25 });
  });

  test('a whole ${NAME} that does not spell the wanted scalar, or a number written as literal text, is still an error naming the key', () => {
    const toml = TOML.replace('url = "mqtt://127.0.0.1:1883"', () => 'url = "mqtt://127.0.0.1:1883"\nkeepalive_s = "${KEEPALIVE}"')
      .replace('batch_size = 10', () => 'batch_size = "10"');
    const p = tempProject({ 'host.toml': toml }, ['mqtt-like-source', 'plain-sink']);
    const result = validateHost('host.toml', { env: { KEEPALIVE: '30s' }, cwd: p.dir });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([
      'host.toml: connector "iot": config/keepalive_s must be integer',
      'host.toml: connector "out": processing/batch_size must be integer',
    ]);
  });

  test('DANUBE_SERVICE_URL and DANUBE_TOKEN override [danube]; a connector\'s own [connectors.danube] still wins', () => {
    const toml = `[danube]\nservice_url = "http://toml:6650"\ntoken = "from-toml"\n${TOML}\n[connectors.danube]\nservice_url = "http://own:6650"\n`;
    const p = tempProject({ 'host.toml': toml }, ['mqtt-like-source', 'plain-sink']);
    const env = { DANUBE_SERVICE_URL: 'https://env:6651', DANUBE_TOKEN: 'from-env' };
    const { config, connectors } = validOrThrow(validateHost('host.toml', { env, cwd: p.dir }));
    expect(config.host.danube).toEqual({ serviceUrl: 'https://env:6651', token: 'from-env', requestTimeoutMs: 10000 });
    expect(connectors[0]?.danube).toEqual({ serviceUrl: 'https://env:6651', token: 'from-env', requestTimeoutMs: 10000 });
    expect(connectors[1]?.danube).toEqual({ serviceUrl: 'http://own:6650', token: 'from-env', requestTimeoutMs: 10000 });
    // An empty variable does not override.
    const blank = validOrThrow(validateHost('host.toml', { env: { DANUBE_SERVICE_URL: '', DANUBE_TOKEN: '' }, cwd: p.dir }));
    expect(blank.config.host.danube).toMatchObject({ serviceUrl: 'http://toml:6650', token: 'from-toml' });
  });

  test('[danube] merges into each connector; a connector tls table replaces the whole [danube.tls]; paths become absolute', () => {
    const toml = `[danube]\nservice_url = "https://broker:6650"\nrequest_timeout_ms = 5000\n[danube.tls]\nca = "certs/ca.pem"\nserver_name = "danube"\n${TOML}\n[connectors.danube]\nrequest_timeout_ms = 2000\n[connectors.danube.tls]\ncert = "certs/client.pem"\nkey = "certs/client.key"\n`;
    const pem = (label: string) => `-----BEGIN ${label}-----\nMIIB\n-----END ${label}-----\n`;
    const p = tempProject({ 'host.toml': toml, 'certs/ca.pem': pem('CERTIFICATE'), 'certs/client.pem': pem('CERTIFICATE'), 'certs/client.key': pem('PRIVATE KEY') }, ['mqtt-like-source', 'plain-sink']);
    const { connectors } = validOrThrow(validateHost('host.toml', { env: {}, cwd: p.dir }));
    expect(connectors[0]?.danube).toEqual({ serviceUrl: 'https://broker:6650', requestTimeoutMs: 5000, tls: { ca: p.path('certs/ca.pem'), serverName: 'danube' } });
    expect(connectors[1]?.danube).toEqual({
      serviceUrl: 'https://broker:6650',
      requestTimeoutMs: 2000,
      tls: { cert: p.path('certs/client.pem'), key: p.path('certs/client.key') },
    });
  });

  test('[danube] transport reaches every connector and a connector may override it; other values are refused', () => {
    const toml = `[danube]\ntransport = "http2"\n${TOML}\n[connectors.danube]\ntransport = "grpc-js"\n`;
    const p = tempProject({ 'host.toml': toml }, ['mqtt-like-source', 'plain-sink']);
    const { connectors } = validOrThrow(validateHost('host.toml', { env: {}, cwd: p.dir }));
    expect(connectors.map((c) => c.danube.transport)).toEqual(['http2', 'grpc-js']);
    const bad = validateHost(p.write('host.toml', `[danube]\ntransport = "h3"\n${TOML}`), { env: {} });
    expect(bad.ok ? [] : bad.problems.map((x) => x.message)).toEqual([`must be one of "grpc-js", "http2"`]);
  });

  test('the fingerprint changes with config, danube, runtime and memory, not with key order or restart settings', () => {
    const p = tempProject({}, ['mqtt-like-source', 'plain-sink']);
    const print = (toml: string) => validOrThrow(validateHost(p.write('host.toml', toml), { env: {} })).connectors.map((c) => c.fingerprint);
    const [iot, out] = print(TOML);
    expect(print(TOML)).toEqual([iot, out]);
    expect(print(TOML.replace('url = "mqtt://127.0.0.1:1883"\n', '') .replace('routes = [', 'url = "mqtt://127.0.0.1:1883"\nroutes = ['))).toEqual([iot, out]);
    expect(print(TOML.replace('max_crashes = 2', 'max_crashes = 3'))).toEqual([iot, out]);
    expect(print(TOML.replace('"sensors/#"', '"sensors/+"'))[0]).not.toBe(iot);
    expect(print(TOML.replace('memory_mb = 128', 'memory_mb = 256'))[1]).not.toBe(out);
    expect(print(TOML.replace('batch_size = 10', 'batch_size = 11'))[1]).not.toBe(out);
    expect(print(`[danube]\nservice_url = "http://other:6650"\n${TOML}`)).not.toContain(iot);
  });

  test('an empty host.toml is valid: no connectors', () => {
    const p = tempProject({ 'host.toml': '' });
    expect(validOrThrow(validateHost(p.path('host.toml'), { env: {} })).connectors).toEqual([]);
  });

  test('a "$schema" key (editor hint) is accepted and ignored', () => {
    const p = tempProject({ 'host.toml': `"$schema" = "./node_modules/@danube-connect/host/schemas/host.schema.json"\n${TOML}` }, ['mqtt-like-source', 'plain-sink']);
    expect(validOrThrow(validateHost(p.path('host.toml'), { env: {} })).connectors).toHaveLength(2);
  });

  test('a plugin given as a folder path', () => {
    const p = tempProject({ 'host.toml': `[[connectors]]\nname = "s"\nplugin = "${FIXTURE_PLUGINS}/plain-sink"\n` });
    expect(validOrThrow(validateHost(p.path('host.toml'), { env: {} })).connectors[0]?.plugin.name).toBe('@fixtures/plain-sink');
  });

  test('the sdk range is checked with prereleases considered', () => {
    const p = tempProject({ 'host.toml': '[[connectors]]\nname = "s"\nplugin = "@fixtures/plain-sink"\n' }, ['plain-sink']);
    // plain-sink asks for ">=0.1.0": a prerelease SDK satisfies it only because prereleases are considered.
    expect(validateHost(p.path('host.toml'), { env: {}, sdk: { version: '0.2.0-rc.1', hostRange: '0.2.0-rc.1' } }).ok).toBe(true);
    const old = validateHost(p.path('host.toml'), { env: {}, sdk: { version: '0.0.9', hostRange: '^0.0.9' } });
    expect(old.ok ? [] : old.problems.map((x) => x.message)).toEqual([
      "@fixtures/plain-sink@0.3.0-beta.1 requires @danube-connect/sdk >=0.1.0, but this host runs @danube-connect/sdk@0.0.9 (the host's range: ^0.0.9); install a plugin version built for it",
    ]);
  });

  test('an unset variable is reported once: the plugin schema does not report the emptied value again', () => {
    const toml = TOML.replace('url = "mqtt://127.0.0.1:1883"', 'url = "${MQTT_URL}"');
    const p = tempProject({ 'host.toml': toml }, ['mqtt-like-source', 'plain-sink']);
    const result = validateHost('host.toml', { env: {}, cwd: p.dir });
    expect(result.ok ? [] : result.problems).toEqual([
      {
        code: 'DC_ERR_ENV_UNSET',
        file: 'host.toml',
        connector: 'iot',
        path: 'config/url',
        message: 'uses ${MQTT_URL} but the environment variable MQTT_URL is not set (give a default with ${MQTT_URL:-default})',
      },
    ]);
  });

  test('an optional secret that expands to "" is not set (the README\'s token = "${DANUBE_TOKEN:-}" on a broker without auth)', () => {
    const toml = `[danube]\nservice_url = "\${DANUBE_SERVICE_URL:-http://127.0.0.1:6650}"\ntoken = "\${DANUBE_TOKEN:-}"\n${TOML}\n[connectors.danube]\ntoken = "\${CONNECTOR_TOKEN:-}"\n`;
    const p = tempProject({ 'host.toml': toml }, ['mqtt-like-source', 'plain-sink']);
    const { config, connectors } = validOrThrow(validateHost('host.toml', { env: {}, cwd: p.dir }));
    expect(config.host.danube).toEqual({ serviceUrl: 'http://127.0.0.1:6650', requestTimeoutMs: 10000 });
    expect(connectors.map((c) => c.danube.token)).toEqual([undefined, undefined]);
  });

  test('manifest endpoints: a malformed one is a manifest problem; declared ones make a loop a warning, not a problem', () => {
    const p = tempProject({
      'host.toml': '[[connectors]]\nname = "in"\nplugin = "@x/reader"\n[connectors.config]\nbroker = "mqtt://127.0.0.1"\nfilters = ["a/#"]\n\n[[connectors]]\nname = "out"\nplugin = "@x/writer"\n[connectors.config]\nbroker = "mqtt://localhost:1883"\ntopic = "a/{key}"\n',
    });
    const plugin = (name: string, kind: string, endpoints: unknown) => writePlugin(p, '.', name, { kind, entry: './index.js', sdk: '>=0.1.0', endpoints });
    plugin('@x/reader', 'source', [{ system: 'mqtt', reads: ['filters'] }]);
    plugin('@x/writer', 'sink', [{ system: 'mqtt', address: ['/broker'], writes: ['/topic'] }]);
    const bad = validateHost('host.toml', { env: {}, cwd: p.dir });
    expect(bad.ok ? [] : bad.problems.map(formatProblem)).toEqual([
      `host.toml: connector "in": plugin @x/reader@1.0.0 has an invalid "danube-connect" manifest in ${p.dir}/node_modules/@x/reader/package.json: endpoints/0/address is required; endpoints/0/reads/0 must match pattern "^(/[^/]+)+$"`,
    ]);
    plugin('@x/reader', 'source', [{ system: 'mqtt', address: ['/broker'], reads: ['/filters'] }]);
    const good = validOrThrow(validateHost('host.toml', { env: {}, cwd: p.dir }));
    expect(good.connectors.map((c) => c.plugin.endpoints)).toEqual([
      [{ system: 'mqtt', address: ['/broker'], reads: ['/filters'] }],
      [{ system: 'mqtt', address: ['/broker'], writes: ['/topic'] }],
    ]);
    expect(good.warnings).toEqual([
      {
        code: 'DC_WARN_ENDPOINT_LOOP',
        file: 'host.toml',
        connector: 'out',
        path: 'config/topic',
        message:
          '"a/{key}" publishes mqtt topics that connector "in" subscribes to with "a/#" (config/filters/0) on the same broker localhost:1883: ' +
          'what this connector publishes there comes back into Danube, and loops if it reaches this connector again',
      },
    ]);
  });
});
