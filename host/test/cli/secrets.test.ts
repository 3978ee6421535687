import { expect, test } from 'vitest';
import { tempProject } from '../temp-project.js';
import { runBuiltCli, runCli } from './run-cli.js';

const SECRETS = ['S3CRET-file-user', 'S3CRET-danube-token', 'S3CRET-env-token', 'S3CRET-mqtt-password', 'S3CRET-connector-token'];

const TOML = (extra: string) => `
[danube]
token = "S3CRET-danube-token"

[[connectors]]
name = "iot"
plugin = "@fixtures/mqtt-like-source"
${extra}
[connectors.danube]
token = "S3CRET-connector-token"

[connectors.config]
url = "mqtt://h:1883"
password = "\${MQTT_PASSWORD}"
routes = [{ from = "a", to = "/default/a" }]
`;

test('secrets never appear in any output: validate --print (masked), validate errors, plugins', async () => {
  const env = { MQTT_PASSWORD: 'S3CRET-mqtt-password', DANUBE_TOKEN: 'S3CRET-env-token' };
  const good = tempProject({ 'host.toml': TOML('').replace('url = "mqtt://h:1883"', 'url = "mqtt://h:1883"\nusername = "${file:secrets/user}"'), 'secrets/user': 'S3CRET-file-user\n' }, ['mqtt-like-source']);
  const bad = tempProject({ 'host.toml': TOML('memory_mb = 1\nbogus = true\n').replace('token = "S3CRET-danube-token"', 'token = "S3CRET-danube-token"\nservice_url = "x"') }, ['mqtt-like-source']);
  const runs = [
    await runCli(['validate', 'host.toml', '--print'], good.dir, env),
    runBuiltCli(['validate', 'host.toml', '--print'], good.dir, env),
    await runCli(['validate', 'host.toml', '--print'], bad.dir, env),
    runBuiltCli(['validate', 'host.toml'], bad.dir, env),
    await runCli(['plugins', 'host.toml'], good.dir, env),
  ];
  const [printed, , failed] = runs;
  expect(printed?.code).toBe(0);
  expect(failed?.code).toBe(2);
  const all = runs.map((r) => r.stdout + r.stderr).join('\n');
  for (const secret of SECRETS) expect(all).not.toContain(secret);
  expect(all).not.toMatch(/S3CRET/);

  const config = JSON.parse(printed?.stdout.replace(/ok: 1 connector\n$/, '') ?? '') as {
    danube: { token: string };
    connectors: { danube: { token: string }; config: { password: string; url: string }; plugin: string }[];
  };
  expect(config.danube.token).toBe('***');
  expect(config.connectors[0]).toMatchObject({ plugin: '@fixtures/mqtt-like-source@1.2.0', danube: { token: '***' }, config: { password: '***', url: 'mqtt://h:1883', username: '***', client_id: 'danube-connect' } });
  expect(failed?.stderr).toContain('connector "iot": bogus is not a known key');
});
