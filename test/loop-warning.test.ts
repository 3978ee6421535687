import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The host's static loop check with the real plugins: source-mqtt and sink-mqtt declare their MQTT endpoints in
// their manifests (plugins/*/package.json), and `danube-connect validate` of the built CLI warns when a sink's `to`
// can reach a source's `from` on the same broker (README "Loop warnings").
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'host/dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'dc-loop-warning-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function validate(sourceMqtt: string, sinkMqtt: string): { status: number | null; stdout: string; stderr: string } {
  const file = join(dir, 'host.toml');
  writeFileSync(
    file,
    `[[connectors]]
name = "mqtt-in"
plugin = "${join(ROOT, 'plugins/source-mqtt')}"
[connectors.config]
${sourceMqtt}

[[connectors]]
name = "mqtt-out"
plugin = "${join(ROOT, 'plugins/sink-mqtt')}"
[connectors.config]
${sinkMqtt}
`,
  );
  const run = spawnSync(process.execPath, [CLI, 'validate', file], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr.replaceAll(file, 'host.toml') };
}

describe('danube-connect validate: a sink publishing where a source subscribes', () => {
  it('warns, naming both connectors, both paths and the broker (never its credentials), and exits 0', () => {
    const result = validate(
      'url = "mqtt://127.0.0.1:1883"\nroutes = [{ from = "telemetry/#", to = "/default/in" }, { from = "$share/g/sensors/+/state", to = "/default/state" }]',
      'servers = ["mqtt://other.example:1883", "mqtt://user:s3cret@localhost:1883"]\nroutes = [{ from = "/default/out", to = "sensors/{key}/state" }]',
    );
    expect(result).toEqual({
      status: 0,
      stdout: 'ok: 2 connectors, 1 warning\n',
      stderr:
        'warning: host.toml: connector "mqtt-out": config/routes/0/to "sensors/{key}/state" publishes mqtt topics that connector "mqtt-in" subscribes to with ' +
        '"$share/g/sensors/+/state" (config/routes/1/from) on the same broker localhost:1883: what this connector publishes there comes back into Danube, ' +
        'and loops if it reaches this connector again\n',
    });
  });

  it('is quiet when the topics are apart or the brokers differ', () => {
    const source = 'url = "mqtt://127.0.0.1:1883"\nroutes = [{ from = "telemetry/#", to = "/default/in" }]';
    expect(validate(source, 'url = "mqtt://127.0.0.1:1883"\nroutes = [{ from = "/default/out", to = "commands/{key}" }]')).toEqual({ status: 0, stdout: 'ok: 2 connectors\n', stderr: '' });
    expect(validate(source, 'url = "mqtt://127.0.0.1:1884"\nroutes = [{ from = "/default/out", to = "telemetry/{key}" }]')).toEqual({ status: 0, stdout: 'ok: 2 connectors\n', stderr: '' });
  });
});
