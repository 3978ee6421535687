import { describe, expect, test } from 'vitest';
import { mkdirSync, symlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { tempProject } from '../temp-project.js';
import { runBuiltCli, runCli } from './run-cli.js';

// A valid connector of the mqtt-like-source fixture; cases change one thing each.
const GOOD = `
[[connectors]]
name = "iot"
plugin = "@fixtures/mqtt-like-source"

[connectors.config]
url = "mqtt://127.0.0.1:1883"
routes = [{ from = "sensors/#", to = "/default/sensors", qos = 1 }]
`;

// A well-formed PEM block (the host checks the PEM structure; the TLS handshake checks the rest).
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUYQ==\n-----END CERTIFICATE-----\n';

interface BadInput {
  name: string;
  toml: string;
  /** The file to validate, when not host.toml. */
  file?: string;
  env?: Record<string, string>;
  fixtures?: string[];
  files?: Record<string, string>;
  /** Symbolic links to create: path in the project → target (relative to the project). */
  links?: Record<string, string>;
  /** The exact stderr lines before the "N problems" summary. */
  problems: string[];
  /** Also run through the built dist/cli.js as a child process. */
  built?: boolean;
}

const withConfig = (config: string, extra = '') => `
[[connectors]]
name = "iot"
plugin = "@fixtures/mqtt-like-source"
${extra}
[connectors.config]
${config}
`;

/** The files of a plugin package in `dir` (its name is the folder's, after node_modules/). */
function evilPackage(dir: string, options: { entry?: boolean; configSchema?: string } = {}): Record<string, string> {
  const name = dir.replace(/^node_modules\//, '');
  const manifest = { kind: 'source', entry: './index.js', sdk: '^0.1.0', ...(options.configSchema ? { configSchema: options.configSchema } : {}) };
  return {
    [`${dir}/package.json`]: JSON.stringify({ name, version: '1.0.0', type: 'module', 'danube-connect': manifest }),
    ...(options.entry === false ? {} : { [`${dir}/index.js`]: 'export default {};\n' }),
  };
}

const cases: BadInput[] = [
  {
    name: 'malformed TOML',
    toml: '[host]\nhttp = "127.0.0.1:9464\n',
    problems: ['host.toml: line 2, column 23: invalid TOML: control characters are not allowed in strings'],
    built: true,
  },
  {
    name: 'unknown top-level key',
    toml: `[hots]\nhttp = "x"\n${GOOD}`,
    problems: ['host.toml: hots is not a known key; expected one of: host, danube, connectors'],
    built: true,
  },
  {
    name: 'wrong type',
    toml: `[host]\nshutdown_timeout_ms = "10s"\n${GOOD}`,
    problems: ['host.toml: host/shutdown_timeout_ms must be integer'],
  },
  {
    name: 'unknown plugin',
    toml: GOOD.replace('@fixtures/mqtt-like-source', '@nope/source-x'),
    problems: [
      `host.toml: connector "iot": plugin "@nope/source-x" was not found: looked in <dir>/node_modules and NN more node_modules folders (up from <dir>, then up from the host's installation <host>), which hold 1 other plugin: @fixtures/mqtt-like-source@1.2.0; install it (npm i @nope/source-x, if your registry has it) or give its folder (plugin = "./path/to/plugin")`,
    ],
    built: true,
  },
  {
    name: 'missing entry file',
    toml: '[[connectors]]\nname = "iot"\nplugin = "@fixtures/missing-entry"\n',
    fixtures: ['missing-entry'],
    problems: [
      'host.toml: connector "iot": plugin @fixtures/missing-entry@1.0.0: entry "./dist/index.js" does not exist (<fixtures>/missing-entry/dist/index.js); is the package built?',
    ],
    built: true,
  },
  {
    name: 'bad manifest',
    toml: '[[connectors]]\nname = "iot"\nplugin = "@fixtures/bad-manifest"\n',
    fixtures: ['bad-manifest'],
    problems: [
      'host.toml: connector "iot": plugin @fixtures/bad-manifest@1.0.0 has an invalid "danube-connect" manifest in <fixtures>/bad-manifest/package.json: sdk is required; schema is not a known key; expected one of: kind, entry, configSchema, sdk, endpoints; kind must be one of "source", "sink"',
    ],
  },
  {
    name: 'not a plugin (no manifest)',
    toml: '[[connectors]]\nname = "iot"\nplugin = "@fixtures/not-a-plugin"\n',
    fixtures: ['not-a-plugin'],
    problems: [
      'host.toml: connector "iot": plugin @fixtures/not-a-plugin@1.0.0 is not a danube-connect plugin: its package.json (<fixtures>/not-a-plugin/package.json) has no "danube-connect" field',
    ],
  },
  {
    name: 'incompatible sdk range',
    toml: '[[connectors]]\nname = "iot"\nplugin = "@fixtures/incompatible-sdk"\n',
    fixtures: ['incompatible-sdk'],
    problems: [
      `host.toml: connector "iot": plugin @fixtures/incompatible-sdk@2.0.0 requires @danube-connect/sdk ^9.0.0, but this host runs @danube-connect/sdk@0.1.0 (the host's range: ^0.1.0); install a plugin version built for it`,
    ],
    built: true,
  },
  {
    name: 'broken plugin config schema',
    toml: '[[connectors]]\nname = "iot"\nplugin = "@fixtures/broken-schema"\n',
    fixtures: ['broken-schema'],
    problems: [
      'host.toml: connector "iot": plugin @fixtures/broken-schema@1.0.0: configSchema "./schema.json" does not compile: schema is invalid: data/properties/port/type must be equal to one of the allowed values, data/properties/port/type must be array, data/properties/port/type must match a schema in anyOf',
    ],
  },
  {
    name: 'config: required',
    toml: withConfig('routes = [{ from = "a", to = "/default/a" }]'),
    problems: ['host.toml: connector "iot": config/url is required'],
  },
  {
    name: 'config: enum',
    toml: withConfig('url = "mqtt://h:1883"\nroutes = [{ from = "a", to = "/default/a", format = "xml" }]'),
    problems: ['host.toml: connector "iot": config/routes/0/format must be one of "json", "text", "bytes"'],
  },
  {
    name: 'config: maximum',
    toml: withConfig('url = "mqtt://h:1883"\nroutes = [{ from = "a", to = "/default/a" }, { from = "b", to = "/default/b", qos = 3 }]'),
    problems: ['host.toml: connector "iot": config/routes/1/qos must be <= 2'],
    built: true,
  },
  {
    name: 'config: pattern',
    toml: withConfig('url = "tcp://h:1883"\nroutes = [{ from = "a", to = "default/a" }]'),
    problems: [
      'host.toml: connector "iot": config/url must match pattern "^mqtts?://"',
      'host.toml: connector "iot": config/routes/0/to must match pattern "^/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+$"',
    ],
  },
  {
    name: 'config: additionalProperties',
    toml: withConfig('url = "mqtt://h:1883"\nroutes = [{ from = "a", to = "/default/a" }]\ncolour = "blue"'),
    problems: [
      'host.toml: connector "iot": config/colour is not a known key; expected one of: url, username, password, client_id, keepalive_s, routes',
    ],
  },
  {
    name: 'config: not a table',
    toml: '[[connectors]]\nname = "iot"\nplugin = "@fixtures/mqtt-like-source"\nconfig = "url=mqtt://h"\n',
    problems: ['host.toml: connector "iot": config must be object'],
  },
  {
    name: 'unset environment variable, with its key path',
    toml: withConfig('url = "mqtt://h:1883"\npassword = "${MQTT_PASSWORD}"\nroutes = [{ from = "a", to = "/default/a" }]'),
    problems: [
      'host.toml: connector "iot": config/password uses ${MQTT_PASSWORD} but the environment variable MQTT_PASSWORD is not set (give a default with ${MQTT_PASSWORD:-default})',
    ],
    built: true,
  },
  {
    name: 'malformed variable reference',
    toml: `[danube]\nservice_url = "http://\${1HOST}:6650"\n${GOOD}`,
    problems: [
      'host.toml: danube/service_url has a malformed variable reference "${1HOST}"; expected ${NAME} or ${NAME:-default} (write $${ for a literal ${)',
    ],
  },
  {
    name: 'duplicate connector names',
    toml: `${GOOD}\n${GOOD}`,
    problems: ['host.toml: connectors/1/name "iot" is already used by connectors/0; connector names must be unique'],
    built: true,
  },
  {
    name: 'bad http address',
    toml: `[host]\nhttp = "localhost"\n${GOOD}`,
    problems: ['host.toml: host/http "localhost" is not a host:port address (e.g. "127.0.0.1:9464", port 0 for any free port)'],
    built: true,
  },
  {
    name: 'http port out of range',
    toml: `[host]\nhttp = "127.0.0.1:70000"\n${GOOD}`,
    problems: ['host.toml: host/http "127.0.0.1:70000" is not a host:port address (e.g. "127.0.0.1:9464", port 0 for any free port)'],
  },
  {
    name: 'bad service_url',
    toml: `[danube]\nservice_url = "ftp://broker:6650"\n${GOOD}`,
    problems: ['host.toml: danube/service_url "ftp://broker:6650" is invalid: scheme ftp: is not supported; expected http://host:port or https://host:port'],
    built: true,
  },
  {
    name: 'bad service_url from DANUBE_SERVICE_URL',
    toml: GOOD,
    env: { DANUBE_SERVICE_URL: 'broker.local' },
    problems: [
      'host.toml: danube/service_url "broker.local" is invalid: the port is missing; expected http://host:port or https://host:port (set by the environment variable DANUBE_SERVICE_URL)',
    ],
  },
  {
    name: "bad service_url in a connector's override",
    toml: `${GOOD}\n[connectors.danube]\nservice_url = "http://broker"\n`,
    problems: ['host.toml: connector "iot": danube/service_url "http://broker" is invalid: the port is missing; expected http://host:port or https://host:port'],
  },
  {
    name: 'bad dead_letter_topic',
    toml: `${GOOD}\n[connectors.processing]\ndead_letter_topic = "dead-letters"\n`,
    problems: [
      'host.toml: connector "iot": processing/dead_letter_topic is invalid: dead-letter topic name "dead-letters" is invalid: expected /<namespace>/<topic> where both parts use only letters, digits, _ and -',
    ],
  },
  {
    name: 'on_retry_exhausted = "dead_letter" without a topic',
    toml: `${GOOD}\n[connectors.processing]\non_retry_exhausted = "dead_letter"\n`,
    problems: ['host.toml: connector "iot": processing/on_retry_exhausted is "dead_letter" but processing/dead_letter_topic is not set'],
  },
  {
    name: 'unknown on_retry_exhausted',
    toml: `${GOOD}\n[connectors.processing]\non_retry_exhausted = "retry"\n`,
    problems: ['host.toml: connector "iot": processing/on_retry_exhausted must be one of "block", "dead_letter", "fail"'],
  },
  {
    name: 'unreadable TLS file',
    toml: `[danube]\nservice_url = "https://broker:6650"\n[danube.tls]\nca = "certs/ca.pem"\n${GOOD}`,
    problems: ['host.toml: danube/tls/ca names file "<dir>/certs/ca.pem", which cannot be read (ENOENT)'],
    built: true,
  },
  {
    name: 'TLS key file unreadable (its path is not printed: key is a secret key)',
    toml: `[danube.tls]\ncert = "client.pem"\nkey = "client-key.pem"\n${GOOD}`,
    files: { 'client.pem': CERT },
    problems: ['host.toml: danube/tls/key names the file, which cannot be read (ENOENT)'],
  },
  {
    name: 'TLS cert without key',
    toml: `${GOOD}\n[connectors.danube.tls]\ncert = """${CERT}"""\n`,
    problems: ['host.toml: connector "iot": danube/tls sets cert without key; mutual TLS needs both'],
  },
  {
    name: 'negative timeout',
    toml: `[host]\nready_timeout_ms = -1\nshutdown_timeout_ms = -5\n${GOOD}`,
    problems: ['host.toml: host/shutdown_timeout_ms must be >= 0', 'host.toml: host/ready_timeout_ms must be >= 100'],
    built: true,
  },
  {
    name: 'restart override out of range',
    toml: `${GOOD}\n[connectors.restart]\nmax_crashes = 0\nwindow_ms = 10\n`,
    problems: ['host.toml: connector "iot": restart/max_crashes must be >= 1', 'host.toml: connector "iot": restart/window_ms must be >= 1000'],
  },
  {
    name: 'restart initial delay above the cap',
    toml: `[host.restart]\ninitial_delay_ms = 100\nmax_delay_ms = 500\n${GOOD}\n[connectors.restart]\ninitial_delay_ms = 2000\n`,
    problems: ['host.toml: connector "iot": restart/initial_delay_ms must be <= max_delay_ms (500), got 2000'],
  },
  {
    name: 'retry initial delay above the cap',
    toml: `${GOOD}\n[connectors.processing]\nretry_initial_delay_ms = 5000\nretry_max_delay_ms = 1000\n`,
    problems: ['host.toml: connector "iot": processing/retry_initial_delay_ms must be <= retry_max_delay_ms (1000), got 5000'],
  },
  {
    name: 'memory_mb too small',
    toml: GOOD.replace('plugin = "@fixtures/mqtt-like-source"', 'plugin = "@fixtures/mqtt-like-source"\nmemory_mb = 16'),
    problems: ['host.toml: connector "iot": memory_mb must be >= 64'],
  },
  {
    name: 'misspelt connector key',
    toml: GOOD.replace('plugin = "@fixtures/mqtt-like-source"', 'plugin = "@fixtures/mqtt-like-source"\nmemroy_mb = 256'),
    problems: [
      'host.toml: connector "iot": memroy_mb is not a known key; expected one of: name, plugin, memory_mb, log_level, danube, env, restart, processing, config',
    ],
  },
  {
    name: 'bad log level',
    toml: `[host]\nlog_level = "verbose"\n${GOOD}`,
    problems: ['host.toml: host/log_level must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent"'],
  },
  {
    name: 'connector without plugin',
    toml: '[[connectors]]\nname = "iot"\n',
    problems: ['host.toml: connector "iot": plugin is required'],
  },
  {
    name: 'bad connector name',
    toml: GOOD.replace('name = "iot"', 'name = "iot sensors"'),
    problems: ['host.toml: connectors/0/name must match pattern "^[A-Za-z0-9_-]+$"'],
  },
  {
    name: 'create_namespaces without admin_url',
    toml: `[danube]\ncreate_namespaces = true\n${GOOD}`,
    problems: ['host.toml: danube/create_namespaces is true but danube/admin_url is not set (namespaces are created through the admin API)'],
  },
  {
    name: 'admin_url without port',
    toml: `[danube]\nadmin_url = "http://broker"\ncreate_namespaces = true\n${GOOD}`,
    problems: ['host.toml: danube/admin_url "http://broker" is invalid: the port is missing; expected http://host:port or https://host:port'],
  },
  {
    name: 'connectors is not an array of tables',
    toml: 'connectors = 1\n',
    problems: ['host.toml: connectors must be array'],
  },
  {
    name: 'plugin name steered outside node_modules with ../',
    toml: '[[connectors]]\nname = "iot"\nplugin = "@fixtures/../../evilpkg"\n',
    files: evilPackage('evilpkg'),
    problems: [
      'host.toml: connector "iot": plugin "@fixtures/../../evilpkg" is neither an npm package name (name can only contain URL-friendly characters) nor a folder path (a path starts with ./, ../ or /)',
    ],
    built: true,
  },
  {
    name: 'plugin name that is a scope and ..',
    toml: '[[connectors]]\nname = "iot"\nplugin = "@fixtures/.."\n',
    problems: ['host.toml: connector "iot": plugin "@fixtures/.." is neither an npm package name (name cannot start with a period) nor a folder path (a path starts with ./, ../ or /)'],
  },
  {
    name: 'plugin name with a backslash path',
    toml: '[[connectors]]\nname = "iot"\nplugin = "..\\\\evilpkg"\n',
    problems: ['host.toml: connector "iot": plugin "..\\evilpkg" is neither an npm package name (name cannot start with a period) nor a folder path (a path starts with ./, ../ or /)'],
  },
  {
    name: 'plugin entry is a symlink to a file outside the package',
    toml: '[[connectors]]\nname = "iot"\nplugin = "@fixtures/linked-entry"\n',
    files: { ...evilPackage('node_modules/@fixtures/linked-entry', { entry: false }), 'outside/evil.js': 'export default {};\n' },
    links: { 'node_modules/@fixtures/linked-entry/index.js': 'outside/evil.js' },
    problems: [
      'host.toml: connector "iot": plugin @fixtures/linked-entry@1.0.0: entry "./index.js" resolves to <dir>/outside/evil.js, outside the package folder <dir>/node_modules/@fixtures/linked-entry (a symbolic link?)',
    ],
    built: true,
  },
  {
    name: 'plugin configSchema is a symlink to a file outside the package',
    toml: '[[connectors]]\nname = "iot"\nplugin = "@fixtures/linked-schema"\n',
    files: { ...evilPackage('node_modules/@fixtures/linked-schema', { configSchema: './schema.json' }), 'outside/schema.json': '{}' },
    links: { 'node_modules/@fixtures/linked-schema/schema.json': 'outside/schema.json' },
    problems: [
      'host.toml: connector "iot": plugin @fixtures/linked-schema@1.0.0: configSchema "./schema.json" resolves to <dir>/outside/schema.json, outside the package folder <dir>/node_modules/@fixtures/linked-schema (a symbolic link?)',
    ],
  },
  {
    name: '${file:} that cannot be read',
    toml: withConfig('url = "mqtt://h:1883"\npassword = "${file:secrets/mqtt}"\nroutes = [{ from = "a", to = "/default/a" }]'),
    problems: ['host.toml: connector "iot": config/password uses ${file:secrets/mqtt} but the file cannot be read (ENOENT)'],
    built: true,
  },
  {
    name: '2,000 nested dotted keys',
    toml: withConfig(`a${'.b'.repeat(2000)} = 1`),
    problems: ['host.toml: connector "iot": config/a/b/b/b nests tables more than 64 levels deep (the most the host reads); flatten it'],
    built: true,
  },
  {
    name: 'validate /dev/urandom (not a regular file)',
    toml: '',
    file: '/dev/urandom',
    problems: ['/dev/urandom: is not a regular file'],
    built: true,
  },
  {
    name: 'host.toml larger than 1 MiB',
    toml: `${GOOD}\n#${'x'.repeat(1024 * 1024)}\n`,
    problems: [`host.toml: is larger than 1 MiB (${GOOD.length + 1024 * 1024 + 3} bytes)`],
  },
  {
    name: 'request_timeout_ms = 1e15',
    toml: `[danube]\nrequest_timeout_ms = 1e15\n${GOOD}\n[connectors.danube]\nrequest_timeout_ms = 1e15\n`,
    problems: ['host.toml: danube/request_timeout_ms must be <= 3600000', 'host.toml: connector "iot": danube/request_timeout_ms must be <= 3600000'],
    built: true,
  },
  {
    name: 'blank sdk range in a manifest',
    toml: '[[connectors]]\nname = "iot"\nplugin = "@fixtures/blank-sdk"\n',
    files: {
      'node_modules/@fixtures/blank-sdk/package.json': JSON.stringify({ name: '@fixtures/blank-sdk', version: '1.0.0', type: 'module', 'danube-connect': { kind: 'source', entry: './index.js', sdk: ' ' } }),
      'node_modules/@fixtures/blank-sdk/index.js': 'export default {};\n',
    },
    problems: ['host.toml: connector "iot": plugin @fixtures/blank-sdk@1.0.0: sdk " " is not a semver range'],
  },
  {
    name: 'three connectors with the same name',
    toml: `${GOOD}\n${GOOD}\n${GOOD}`,
    problems: [
      'host.toml: connectors/1/name "iot" is already used by connectors/0; connector names must be unique',
      'host.toml: connectors/2/name "iot" is already used by connectors/0; connector names must be unique',
    ],
  },
  {
    name: 'nan and inf as durations',
    toml: `[host]\nshutdown_timeout_ms = nan\nready_timeout_ms = -inf\n${GOOD}`,
    problems: ['host.toml: host/shutdown_timeout_ms must be a finite number, got nan', 'host.toml: host/ready_timeout_ms must be a finite number, got -inf'],
    built: true,
  },
  {
    name: 'TLS CA file that is not PEM',
    toml: `[danube]\nservice_url = "https://broker:6650"\n[danube.tls]\nca = "ca.crt"\n${GOOD}`,
    files: { 'ca.crt': 'this is a DER file or a typo, not PEM\n' },
    problems: ['host.toml: danube/tls/ca file "<dir>/ca.crt" holds no PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)'],
    built: true,
  },
  {
    name: 'inline TLS CA that is not PEM',
    toml: `${GOOD}\n[connectors.danube.tls]\nca = "-----BEGIN CERTIFICATE-----\\nnot base64!\\n"\n`,
    problems: ['host.toml: connector "iot": danube/tls/ca is inline text without a complete PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)'],
  },
  {
    name: 'TLS key that is not a PEM private key (its value is not printed)',
    toml: `[danube.tls]\ncert = """${CERT}"""\nkey = "-----BEGIN CERTIFICATE-----\\nS3CRET\\n-----END CERTIFICATE-----"\n${GOOD}`,
    problems: ['host.toml: danube/tls/key is inline text without a complete PEM private key (-----BEGIN … PRIVATE KEY----- … -----END … PRIVATE KEY-----)'],
  },
  {
    name: 'host.toml missing',
    toml: '',
    problems: ['missing.toml: cannot be read (ENOENT)'],
  },
];

async function project(input: BadInput) {
  const p = tempProject({ 'host.toml': input.toml, ...input.files }, input.fixtures ?? ['mqtt-like-source']);
  for (const [link, target] of Object.entries(input.links ?? {})) {
    mkdirSync(dirname(p.path(link)), { recursive: true });
    symlinkSync(p.path(target), p.path(link));
  }
  return p;
}

function expected(input: BadInput, file = 'host.toml'): string {
  const count = input.problems.length;
  return [...input.problems, `${file}: ${count} problem${count === 1 ? '' : 's'}`].join('\n') + '\n';
}

/** The not-found message names machine-specific folders and a count: pinned by a pattern. */
function comparable(stderr: string): string {
  return stderr.replace(/and \d+ more node_modules folders/, 'and NN more node_modules folders').replace(/up from the host's installation [^)]+\)/, "up from the host's installation <host>)");
}

/**
 * The built CLI also searches up from the host's own installation, which in this repository is the workspace: its
 * node_modules links the repository's plugins (@danube-plugin/*). They are left out of the "other plugins" list, so
 * the message compared is the one a user's project would get.
 */
function withoutWorkspacePlugins(stderr: string): string {
  return stderr.replace(/which hold \d+ other plugins?: ([^;]*);/, (_, list: string) => {
    const own = list.split(', ').filter((name) => !name.startsWith('@danube-plugin/'));
    return `which hold ${own.length} other plugin${own.length === 1 ? '' : 's'}: ${own.join(', ')};`;
  });
}

describe('validate: every bad input exits 2 and names file, connector and key path', () => {
  test('the table holds exactly 58 distinct bad inputs', () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    // The table's size, exactly: a case lost in an edit fails here (adding one means raising the count).
    expect(cases.length).toBe(58);
  });

  test.each(cases)('$name', async (input) => {
    const p = await project(input);
    const file = input.file ?? (input.name === 'host.toml missing' ? 'missing.toml' : 'host.toml');
    const result = await runCli(['validate', file], p.dir, input.env ?? {});
    expect(comparable(result.stderr)).toBe(expected(input, file));
    expect(result.stdout).toBe('');
    expect(result.code).toBe(2);
  });

  test.each(cases.filter((c) => c.built))('built CLI: $name', async (input) => {
    const p = await project(input);
    const file = input.file ?? 'host.toml';
    const result = runBuiltCli(['validate', file], p.dir, input.env ?? {});
    expect(comparable(withoutWorkspacePlugins(result.stderr))).toBe(expected(input, file));
    expect(result.code).toBe(2);
  });

  test('every problem of every connector at once, host-wide first then by connector', async () => {
    const p = tempProject(
      {
        'host.toml': `[host]\nhttp = "nowhere"\n
[[connectors]]
name = "a"
plugin = "@fixtures/incompatible-sdk"
memory_mb = 1

[[connectors]]
name = "b"
plugin = "@fixtures/mqtt-like-source"
[connectors.config]
url = "mqtt://h:1"
routes = [{ from = "x", to = "/a/b", qos = 9 }]
[connectors.processing]
max_in_flight = 0
`,
      },
      ['incompatible-sdk', 'mqtt-like-source'],
    );
    const result = await runCli(['validate', 'host.toml'], p.dir);
    expect(result.stderr).toMatchInlineSnapshot(`
      "host.toml: host/http "nowhere" is not a host:port address (e.g. "127.0.0.1:9464", port 0 for any free port)
      host.toml: connector "a": memory_mb must be >= 64
      host.toml: connector "a": plugin @fixtures/incompatible-sdk@2.0.0 requires @danube-connect/sdk ^9.0.0, but this host runs @danube-connect/sdk@0.1.0 (the host's range: ^0.1.0); install a plugin version built for it
      host.toml: connector "b": processing/max_in_flight must be >= 1
      host.toml: connector "b": config/routes/0/qos must be <= 2
      host.toml: 5 problems
      "
    `);
    expect(result.code).toBe(2);
  });
});
