// Bad source-mqtt configs as users write them (many while coming from the Rust reference), through the built
// `danube-connect validate` with this plugin from the workspace: exit 2 and a line naming host.toml, the connector
// and the key path. config.test.ts covers the plugin's own checks; these are the schema's, as the host reports them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';

const HOST_CLI = fileURLToPath(new URL('../../../host/dist/cli.js', import.meta.url));

function validate(connector: string): { code: number | null; stderr: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'dc-source-mqtt-validate-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'host.toml'), `[[connectors]]\nname = "plant"\nplugin = "@danube-plugin/source-mqtt"\n${connector}\n`);
  const child = spawnSync(process.execPath, [HOST_CLI, 'validate', 'host.toml'], { cwd: dir, env: { PATH: process.env['PATH'] }, encoding: 'utf8' });
  return { code: child.status, stderr: child.stderr.split('\n').filter((line) => line !== '') };
}

const config = (...lines: string[]) => ['[connectors.config]', 'url = "mqtt://broker:1883"', ...lines].join('\n');
const route = (...lines: string[]) => ['[[connectors.config.routes]]', 'from = "plant/#"', 'to = "/plant/telemetry"', ...lines].join('\n');
const P = 'host.toml: connector "plant": ';

// Each: [what, the connector's keys, the lines validate prints (a line may go on after what is given: the lists of
// known keys grow)].
const BAD: Array<[string, string, string[]]> = [
  ["the reference's QoS name", `${config()}\n${route('qos = "AtLeastOnce"')}`, [`${P}config/routes/0/qos must be integer`]],
  ["the reference's [mqtt] table pasted in", `${config('[connectors.config.mqtt]', 'broker_host = "broker"')}\n${route()}`, [`${P}config/mqtt is not a known key; expected one of: url, servers,`]],
  ["the reference's key name keep_alive_secs", `${config('keep_alive_secs = 30')}\n${route()}`, [`${P}config/keep_alive_secs is not a known key; expected one of: url, servers,`]],
  ['routes as one table ([connectors.config.routes])', `${config()}\n[connectors.config.routes]\nfrom = "plant/#"\nto = "/plant/telemetry"`, [`${P}config/routes must be array`]],
  ['no [connectors.config] at all', '', [`${P}config/url is required`, `${P}config/servers is required`, `${P}config must match exactly one schema in oneOf`, `${P}config/routes is required`]],
  ['a URL without a scheme', `[connectors.config]\nurl = "broker:1883"\n${route()}`, [`${P}config/url must match pattern "^(mqtt|mqtts|ws|wss)://[^\\s]+$"`]],
  ['an empty servers list', `[connectors.config]\nservers = []\n${route()}`, [`${P}config/servers must NOT have fewer than 1 items`]],
  ['a Danube topic without its leading /', `${config()}\n[[connectors.config.routes]]\nfrom = "plant/#"\nto = "plant/telemetry"`, [`${P}config/routes/0/to must match pattern "^/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+$"`]],
  ['an empty filter', `${config()}\n[[connectors.config.routes]]\nfrom = ""\nto = "/plant/telemetry"`, [`${P}config/routes/0/from must NOT have fewer than 1 characters`]],
  ['more partitions than Danube topics take', `${config()}\n${route('partitions = 2000')}`, [`${P}config/routes/0/partitions must be <= 1024`]],
  ['an ordering name of another system', `${config()}\n${route('ordering = "strict"')}`, [`${P}config/routes/0/ordering must be one of "partition", "none"`]],
  ['a quoted boolean', `${config('include_metadata = "yes"')}\n${route()}`, [`${P}config/include_metadata must be boolean`]],
  ['tls as a file name instead of a table', `[connectors.config]\nurl = "mqtts://broker:8883"\ntls = "/etc/ssl/ca.pem"\n${route()}`, [`${P}config/tls must be object`]],
  ['reject_unauthorized quoted', `[connectors.config]\nurl = "mqtts://broker:8883"\ntls = { reject_unauthorized = "false" }\n${route()}`, [`${P}config/tls/reject_unauthorized must be boolean`]],
  ['an empty client id', `${config('client_id = ""')}\n${route()}`, [`${P}config/client_id must NOT have fewer than 1 characters`]],
  ['a packet size below the MQTT header', `${config('max_packet_size = 10')}\n${route()}`, [`${P}config/max_packet_size must be >= 64`]],
  ['the protocol version as text', `${config('protocol_version = "5"')}\n${route()}`, [`${P}config/protocol_version must be integer`, `${P}config/protocol_version must be one of 5, 4`]],
];

describe('danube-connect validate refuses bad source-mqtt configs', () => {
  it('accepts the good config the bad ones are made from (the deliberately right case)', () => {
    expect(validate(`${config()}\n${route()}`)).toEqual({ code: 0, stderr: [] });
  });

  it.each(BAD)('%s', (_what, connector, expected) => {
    const { code, stderr } = validate(connector);
    expect(stderr.slice(0, -1).map((line, i) => (expected[i] !== undefined && line.startsWith(expected[i]) ? expected[i] : line))).toEqual(expected);
    expect(stderr.at(-1)).toBe(`host.toml: ${expected.length} problem${expected.length === 1 ? '' : 's'}`);
    expect(code).toBe(2);
  });
});
