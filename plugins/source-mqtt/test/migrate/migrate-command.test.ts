// danube-source-mqtt-migrate, the built bin run as a child process: the reference's own example configurations
// byte for byte, the result through the built `danube-connect validate`, every refusal, the environment overrides.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'smol-toml';
import { describe, expect, it, onTestFinished } from 'vitest';

const BIN = fileURLToPath(new URL('../../dist/migrate.js', import.meta.url));
const HOST_CLI = fileURLToPath(new URL('../../../../host/dist/cli.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/reference/', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const run = (command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Run => {
  const child = spawnSync(process.execPath, [command, ...args], { cwd, env: { PATH: process.env['PATH'], ...env }, encoding: 'utf8' });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
};
const migrate = (args: string[], env: NodeJS.ProcessEnv = {}, cwd = FIXTURES) => run(BIN, args, cwd, env);
const validate = (dir: string, env: NodeJS.ProcessEnv = {}, print = false) => run(HOST_CLI, ['validate', 'host.toml', ...(print ? ['--print'] : [])], dir, env);

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dc-migrate-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A reference connector.toml in a fresh folder, migrated there as `connector.toml`. */
function migrateText(text: string, env: NodeJS.ProcessEnv = {}, args: string[] = []): Run & { dir: string } {
  const dir = tempDir();
  writeFileSync(join(dir, 'connector.toml'), text);
  return { ...migrate(['connector.toml', ...args], env, dir), dir };
}

type Doc = Record<string, unknown>;
const BASE = (): Doc => ({
  danube_service_url: 'http://danube:6650',
  connector_name: 'plant',
  mqtt: { broker_host: 'broker', client_id: 'c1', routes: [{ from: 'a/#', to: '/iot/a' }] },
});
const mqttOf = (doc: Doc) => doc['mqtt'] as Doc;
const routesOf = (doc: Doc) => mqttOf(doc)['routes'] as Doc[];
const withDoc = (change: (doc: Doc) => void): string => {
  const doc = BASE();
  change(doc);
  return stringify(doc);
};
const lines = (text: string) => text.split('\n').filter((line) => line !== '');

describe('danube-source-mqtt-migrate', () => {
  it.each(['example', 'schemas-example'])("migrates the reference's own %s configuration byte for byte", (name) => {
    const result = migrate([`${name}.toml`]);
    expect(result.stdout).toBe(readFileSync(join(FIXTURES, `${name}.host.toml`), 'utf8'));
    expect(result.stderr).toBe(readFileSync(join(FIXTURES, `${name}.stderr.txt`), 'utf8'));
    expect(result.code).toBe(0);
  });

  it.each(['example', 'schemas-example'])("the reference's %s configuration, migrated, passes the built danube-connect validate (route schemas)", (name) => {
    const dir = tempDir();
    const migrated = migrate([join(FIXTURES, `${name}.toml`)], {}, dir);
    expect(migrated.code).toBe(0);
    writeFileSync(join(dir, 'host.toml'), migrated.stdout);
    expect(validate(dir)).toEqual({ code: 0, stdout: 'ok: 1 connector\n', stderr: '' });
  });

  it('an ExactlyOnce route becomes qos = 2, which the built danube-connect validate accepts', () => {
    const migrated = migrateText(withDoc((doc) => Object.assign(routesOf(doc)[0] as Doc, { qos: 'ExactlyOnce', reliable_dispatch: true })));
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toContain('qos = 2');
    writeFileSync(join(migrated.dir, 'host.toml'), migrated.stdout);
    expect(validate(migrated.dir)).toEqual({ code: 0, stdout: 'ok: 1 connector\n', stderr: '' });
  });

  it('prints an entry that the built danube-connect validate accepts, credentials from the environment and a literal "${" kept', () => {
    const dir = tempDir();
    const result = migrate([join(FIXTURES, 'secured.toml')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('url = "mqtts://broker.plant.example:8883"');
    expect(result.stdout).toContain('client_id = "edge-$${SITE}"');
    expect(result.stdout + result.stderr).not.toContain('not-in-the-output');
    writeFileSync(join(dir, 'host.toml'), result.stdout);

    const env = { MQTT_USERNAME: 'danube', MQTT_PASSWORD: 'not-in-the-output' };
    const ok = validate(dir, env, true);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('ok: 1 connector');
    expect(ok.stdout).toContain('"client_id": "edge-${SITE}"'); // the reference took it literally; so does the host
    expect(ok.stdout).not.toContain('not-in-the-output');

    const unset = validate(dir);
    expect(unset.code).toBe(2);
    expect(lines(unset.stderr)).toEqual([
      'host.toml: connector "plant-edge": config/username uses ${MQTT_USERNAME} but the environment variable MQTT_USERNAME is not set (give a default with ${MQTT_USERNAME:-default})',
      'host.toml: connector "plant-edge": config/password uses ${MQTT_PASSWORD} but the environment variable MQTT_PASSWORD is not set (give a default with ${MQTT_PASSWORD:-default})',
      'host.toml: 2 problems',
    ]);
  });

  // Each: [what, connector.toml, environment, the stderr line that names the key]. Exit 2, nothing on stdout.
  const REFUSED: Array<[string, string, NodeJS.ProcessEnv, string]> = [
    ['not TOML', 'mqtt = [', {}, 'connector.toml: error: is not valid TOML (line 1, column 8): Invalid TOML document: unfinished array'],
    ['an unknown root key', withDoc((d) => (d['danube_token'] = 'x')), {}, 'connector.toml: error: danube_token: is not a key of the reference (which ignored unknown keys): a typo loses a setting; expected one of: danube_service_url, connector_name, retry, processing, schemas, mqtt'],
    ['a misspelt [mqtt] key', withDoc((d) => (mqttOf(d)['keepalive_secs'] = 30)), {}, 'connector.toml: error: mqtt.keepalive_secs: is not a key of the reference (which ignored unknown keys): a typo loses a setting; expected one of: broker_host, broker_port, client_id, username, password, use_tls, keep_alive_secs, connection_timeout_secs, max_packet_size, clean_session, include_metadata, tcp_nodelay, routes'],
    ['an unknown route key', withDoc((d) => ((routesOf(d)[0] as Doc)['retain'] = true)), {}, 'connector.toml: error: mqtt.routes[0].retain: is not a key of the reference (which ignored unknown keys): a typo loses a setting; expected one of: from, to, qos, partitions, reliable_dispatch'],
    ['the pre-0.3 topic_mappings', withDoc((d) => (mqttOf(d)['topic_mappings'] = [{ mqtt_topic: 'a', danube_topic: '/a/b' }])), {}, "connector.toml: error: mqtt.topic_mappings: the name before the reference's 0.3: write [[mqtt.routes]] (mqtt_topic → from, danube_topic → to), as 0.3 requires"],
    ['a QoS number', withDoc((d) => ((routesOf(d)[0] as Doc)['qos'] = 1)), {}, 'connector.toml: error: mqtt.routes[0].qos: must be one of "AtMostOnce", "AtLeastOnce", "ExactlyOnce" (the reference\'s names; here qos = 0, 1, 2)'],
    ['a QoS name in the wrong case', withDoc((d) => ((routesOf(d)[0] as Doc)['qos'] = 'atleastonce')), {}, 'connector.toml: error: mqtt.routes[0].qos: must be one of "AtMostOnce", "AtLeastOnce", "ExactlyOnce" (the reference\'s names; here qos = 0, 1, 2)'],
    ['a missing required key, whatever the environment says', withDoc((d) => delete mqttOf(d)['broker_host']), { MQTT_BROKER_HOST: 'broker' }, 'connector.toml: error: mqtt.broker_host: is required (the reference refuses the file without it, whatever the environment says)'],
    ['a port written into the host', withDoc((d) => (mqttOf(d)['broker_host'] = 'broker:1883')), {}, 'connector.toml: error: mqtt.broker_host: has a ":": the reference took it as part of the host name; give the port as mqtt.broker_port'],
    ['a URL as the host', withDoc((d) => (mqttOf(d)['broker_host'] = 'mqtt://broker')), {}, 'connector.toml: error: mqtt.broker_host: is not a host name or address'],
    ['a port above 65535', withDoc((d) => (mqttOf(d)['broker_port'] = 70000)), {}, 'connector.toml: error: mqtt.broker_port: must be at most 65535'],
    ['[[mqtt.routes]] written as one table', withDoc((d) => (mqttOf(d)['routes'] = { from: 'a', to: '/a/b' })), {}, 'connector.toml: error: mqtt.routes: must be an array of tables ([[mqtt.routes]])'],
    ['no route', withDoc((d) => (mqttOf(d)['routes'] = [])), {}, 'connector.toml: error: mqtt.routes: is empty: the reference refuses to start without a route'],
    ['tcp_nodelay = false', withDoc((d) => (mqttOf(d)['tcp_nodelay'] = false)), {}, "connector.toml: error: mqtt.tcp_nodelay = false cannot be expressed: this plugin always disables Nagle's algorithm (TCP no-delay)"],
    ['a username without a password', withDoc((d) => (mqttOf(d)['username'] = 'u')), {}, 'connector.toml: error: mqtt.username: is set but mqtt.password is not: the reference then dropped it and connected anonymously; this plugin refuses one without the other: set both, or remove it'],
    ['a password from the environment without a username', stringify(BASE()), { MQTT_PASSWORD: 'p' }, 'connector.toml: error: mqtt.password: is set (from the environment variable MQTT_PASSWORD) but mqtt.username is not: the reference then dropped it and connected anonymously; this plugin refuses one without the other: set both, or remove it'],
    ['a Danube topic without a namespace', withDoc((d) => ((routesOf(d)[0] as Doc)['to'] = '/sensors')), {}, 'connector.toml: error: mqtt.routes[0].to: "/sensors" is not a Danube topic /<namespace>/<topic> (letters, digits, _ and -): the reference did not check it, this plugin does'],
    ['an invalid filter', withDoc((d) => ((routesOf(d)[0] as Doc)['from'] = 'a/#/b')), {}, 'connector.toml: error: mqtt.routes[0].from: "#" must be the whole last level of "a/#/b" (the reference failed at start too)'],
    ['a route an earlier one shadows', withDoc((d) => routesOf(d).push({ from: 'a/b', to: '/iot/b' })), {}, 'connector.toml: error: mqtt.routes[1].from: every topic "a/b" matches goes to mqtt.routes[0] ("a/#") first, there as here (the first match wins): this route never got a message; remove it or put it first'],
    ['routes disagreeing about a topic', withDoc((d) => routesOf(d).push({ from: 'b/#', to: '/iot/a', partitions: 4 })), {}, 'connector.toml: error: mqtt.routes[1]: writes to /iot/a like mqtt.routes[0] with other partitions or reliable_dispatch: the reference made a producer per route under one name (the last one won); routes sharing a Danube topic must agree here'],
    ['a schema for a topic no route writes', withDoc((d) => (d['schemas'] = [{ topic: '/iot/x', subject: 's', schema_type: 'string', schema_file: '' }])), {}, 'connector.toml: error: schemas[0].topic: "/iot/x": no route writes to it; the reference only warned and went on without the schema; fix the topic or remove the entry'],
    ['two schemas for one topic', withDoc((d) => (d['schemas'] = [{ topic: '/iot/a', subject: 's', schema_type: 'string', schema_file: '' }, { topic: '/iot/a', subject: 't', schema_type: 'bytes', schema_file: '' }])), {}, 'connector.toml: error: schemas[1].topic: "/iot/a" has a schema already (schemas[0]): a topic has one schema'],
    ['an unknown schema type', withDoc((d) => (d['schemas'] = [{ topic: '/iot/a', subject: 's', schema_type: 'xml', schema_file: 'x.xsd' }])), {}, 'connector.toml: error: schemas[0].schema_type: "xml" is not a schema type of the reference: json_schema, json, string, number, bytes, avro, protobuf'],
    ['a json_schema without a file', withDoc((d) => (d['schemas'] = [{ topic: '/iot/a', subject: 's', schema_type: 'JSON_SCHEMA', schema_file: '' }])), {}, 'connector.toml: error: schemas[0].schema_file: is empty, but a JSON_SCHEMA schema is read from a file (the reference failed at start)'],
    ['a bare "pinned" version strategy', withDoc((d) => (d['schemas'] = [{ topic: '/iot/a', subject: 's', schema_type: 'string', schema_file: '', version_strategy: 'pinned' }])), {}, 'connector.toml: error: schemas[0].version_strategy: must be "latest", { pinned = N } or { minimum = N } with N ≥ 1'],
    ['version 0', withDoc((d) => (d['schemas'] = [{ topic: '/iot/a', subject: 's', schema_type: 'string', schema_file: '', version_strategy: { pinned: 0 } }])), {}, 'connector.toml: error: schemas[0].version_strategy: must be "latest", { pinned = N } or { minimum = N } with N ≥ 1'],
    ['a connector name with a space', withDoc((d) => (d['connector_name'] = 'mqtt iot')), {}, 'connector.toml: error: connector_name: "mqtt iot" cannot be a connector name here (letters, digits, _ and -, at most 100): give --name <name>'],
    ['a keep-alive above MQTT\'s limit', withDoc((d) => (mqttOf(d)['keep_alive_secs'] = 70000)), {}, "connector.toml: error: mqtt.keep_alive_secs: becomes keepalive_s = 70000, above this plugin's maximum 65535"],
    ['a Danube URL without a port', withDoc((d) => (d['danube_service_url'] = 'http://danube')), {}, 'connector.toml: error: danube_service_url: "http://danube" is invalid: the port is missing; expected http://host:port or https://host:port'],
    ['MQTT_BROKER_PORT that is not a port', stringify(BASE()), { MQTT_BROKER_PORT: '18 83' }, 'connector.toml: error: MQTT_BROKER_PORT (environment) is not a port 1–65535; the reference would silently keep mqtt.broker_port = 1883, refused here'],
    ['MQTT_BROKER_PORT=0', stringify(BASE()), { MQTT_BROKER_PORT: '0' }, 'connector.toml: error: MQTT_BROKER_PORT (environment) is not a port 1–65535; the reference would silently keep mqtt.broker_port = 1883, refused here'],
    ['MQTT_USE_TLS=1', stringify(BASE()), { MQTT_USE_TLS: '1' }, 'connector.toml: error: MQTT_USE_TLS (environment) must be true or false; the reference would silently keep mqtt.use_tls = false, refused here'],
    ['an empty MQTT_BROKER_HOST', stringify(BASE()), { MQTT_BROKER_HOST: '' }, 'connector.toml: error: MQTT_BROKER_HOST (environment) is set but empty, which the reference takes as mqtt.broker_host = ""'],
  ];

  it.each(REFUSED)('refuses %s, naming the key, and prints nothing', (_what, text, env, line) => {
    const result = migrateText(text, env);
    expect(lines(result.stderr)).toContain(line);
    expect(result.stderr.trimEnd().split('\n').at(-1)).toMatch(/^connector\.toml: \d+ errors?: nothing printed, the result would not be equivalent$/);
    expect(result.stdout).toBe('');
    expect(result.code).toBe(2);
  });

  it("maps the reference's names: ExactlyOnce, json, pinned and minimum versions, one schema for two routes of a topic", () => {
    const text = withDoc((d) => {
      Object.assign(mqttOf(d), { broker_host: '::1', include_metadata: false });
      mqttOf(d)['routes'] = [
        { from: 'alarms/#', to: '/iot/alarms', qos: 'ExactlyOnce', reliable_dispatch: true },
        { from: 'a/+', to: '/iot/a', qos: 'AtMostOnce', reliable_dispatch: false },
        { from: 'b/+', to: '/iot/a', qos: 'AtMostOnce' },
      ];
      d['schemas'] = [
        { topic: '/iot/alarms', subject: 'alarm', schema_type: 'Json', schema_file: '/etc/alarm.json', version_strategy: { pinned: 2 } },
        { topic: '/iot/a', subject: 'a', schema_type: 'bytes', schema_file: '', auto_register: false, version_strategy: { minimum: 1 } },
      ];
    });
    const result = migrateText(text);
    expect(result.code).toBe(0);
    expect(result.stdout.slice(result.stdout.indexOf('[connectors.config]'))).toBe(
      [
        '[connectors.config]',
        'url = "mqtt://[::1]:1883"',
        'client_id = "c1"',
        'include_metadata = false',
        '',
        '[[connectors.config.routes]]',
        'from = "alarms/#"',
        'to = "/iot/alarms"',
        'qos = 2',
        'reliable = true',
        'schema = { subject = "alarm", type = "json_schema", file = "/etc/alarm.json", version = { pinned = 2 } }',
        '',
        '[[connectors.config.routes]]',
        'from = "a/+"',
        'to = "/iot/a"',
        'qos = 0',
        'reliable = false',
        'schema = { subject = "a", type = "bytes", auto_register = false, version = { minimum = 1 } }',
        '',
        '[[connectors.config.routes]]',
        'from = "b/+"',
        'to = "/iot/a"',
        'qos = 0',
        'schema = { subject = "a", type = "bytes", auto_register = false, version = { minimum = 1 } }',
        '',
      ].join('\n'),
    );
    expect(lines(result.stderr)).toEqual(
      expect.arrayContaining([
        'connector.toml: note: mqtt.routes[0].qos: "ExactlyOnce" becomes qos = 2: the reference acknowledged on receipt (at most once); here PUBREC waits for Danube',
        "connector.toml: warning: schemas[0]: becomes the schema of mqtt.routes[0], type \"json_schema\": the broker's alias of json_schema, validated as json_schema before publishing here (the reference published everything); a payload that does not fit goes to [connectors.processing] dead_letter_topic, or is counted and dropped when none is set",
        'connector.toml: note: schemas[1]: becomes the schema of mqtt.routes[1], mqtt.routes[2], type "bytes": payloads pass through',
      ]),
    );
  });

  it('applies the environment overrides as the reference does, and never prints a credential', () => {
    const text = withDoc((d) => Object.assign(mqttOf(d), { username: 'file-user', password: 'file-secret-1' }));
    const env = {
      DANUBE_SERVICE_URL: 'http://danube.prod:6650',
      CONNECTOR_NAME: 'plant-prod',
      MQTT_BROKER_HOST: 'broker.prod',
      MQTT_BROKER_PORT: '+8883', // Rust's u16 parse takes a leading +
      MQTT_CLIENT_ID: 'c-prod',
      MQTT_USERNAME: 'env-user',
      MQTT_PASSWORD: 'env-secret-2',
      MQTT_USE_TLS: 'true',
      RUST_LOG: 'DEBUG',
    };
    const result = migrateText(text, env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('[danube]\nservice_url = "http://danube.prod:6650"\n\n[[connectors]]\nname = "plant-prod"\nplugin = "@danube-plugin/source-mqtt"\nlog_level = "debug"\n');
    expect(result.stdout).toContain('[connectors.config]\nurl = "mqtts://broker.prod:8883"\nclient_id = "c-prod"\nusername = "${MQTT_USERNAME}"\npassword = "${MQTT_PASSWORD}"\n');
    for (const secret of ['file-secret-1', 'env-secret-2', 'file-user', 'env-user']) expect(result.stdout + result.stderr).not.toContain(secret);
    expect(lines(result.stderr)).toEqual(
      expect.arrayContaining([
        'connector.toml: note: danube_service_url (from the environment variable DANUBE_SERVICE_URL) becomes [danube] service_url, which is host-wide: when this entry joins a host.toml with a [danube] table, keep one service_url (or set [connectors.danube] service_url for this connector only)',
        'connector.toml: note: RUST_LOG (environment) becomes log_level = "debug", as it decided the reference\'s level',
        'connector.toml: note: mqtt.password: is written as "${MQTT_PASSWORD}", never in clear; it comes from MQTT_PASSWORD (the host reads the variable at start and masks the value)',
        expect.stringMatching(/^connector\.toml: warning: mqtt\.use_tls = true \(from the environment variable MQTT_USE_TLS\) becomes url = "mqtts:\/\/broker\.prod:8883": the reference never applied it/),
      ]),
    );
  });

  it('never quotes a credential in an error', () => {
    const result = migrateText(withDoc((d) => Object.assign(mqttOf(d), { username: 'u', password: 12345678, passwd: 'hunter2-typo' })));
    expect(lines(result.stderr)).toContain('connector.toml: error: mqtt.password: must be a string');
    expect(result.stdout + result.stderr).not.toMatch(/12345678|hunter2-typo/);
    expect(result.code).toBe(2);
  });

  it('tells where a password written in the file must go, without printing it', () => {
    const result = migrateText(withDoc((d) => Object.assign(mqttOf(d), { username: 'u', password: 'hunter2-in-file' })));
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain('hunter2-in-file');
    expect(lines(result.stderr)).toContain(
      'connector.toml: note: mqtt.password: is written as "${MQTT_PASSWORD}", never in clear; it is in the file: set MQTT_PASSWORD to it in the host\'s environment (the host reads the variable at start and masks the value)',
    );
  });

  it('reads CONNECTOR_CONFIG_PATH when no file is given; --name wins over connector_name and CONNECTOR_NAME', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'c.toml'), withDoc((d) => (d['connector_name'] = 'not a valid name')));
    const result = migrate(['--name', 'plant-2'], { CONNECTOR_CONFIG_PATH: join(dir, 'c.toml'), CONNECTOR_NAME: 'from-env' }, dir);
    expect(result.stderr).not.toContain('error');
    expect(result.stdout).toContain('\nname = "plant-2"\n');
    expect(result.code).toBe(0);
  });

  it('keeps warnings from the exit code: a RUST_LOG filter is not carried and processing.log_level is', () => {
    const result = migrateText(withDoc((d) => (d['processing'] = { log_level: 'warn' })), { RUST_LOG: 'danube_source_mqtt=trace,info' });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('\nlog_level = "warn"\n');
    expect(lines(result.stderr)).toContain('connector.toml: warning: RUST_LOG (environment) is a per-module filter, not carried: set log_level in [[connectors]] (error, warn, info, debug, trace)');
  });

  it('refuses a bad command line with exit 64 and a missing file with exit 2', () => {
    expect(migrate([]).code).toBe(64);
    expect(migrate(['--nope', 'x.toml']).code).toBe(64);
    const missing = migrate(['missing.toml']);
    expect(missing.stderr).toBe('missing.toml: error: cannot be read (ENOENT)\n');
    expect(missing.code).toBe(2);
  });
});
