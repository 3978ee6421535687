import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { execForm, parseDockerfile } from './support/dockerfile.js';
import { loadKubernetesExample } from './support/kubernetes-example.js';

// The examples/ folder: every host.toml (files and the Kubernetes ConfigMap's) passes the built CLI's `danube-connect
// validate` with the plugins of this workspace, and the compose and Kubernetes files agree with each other, with
// the Dockerfile and with host.toml on what matters: addresses, mount points, user, client ids, probes, grace periods.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'host/dist/cli.js');
const EXAMPLES = join(ROOT, 'examples');
const dir = mkdtempSync(join(tmpdir(), 'dc-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DOCKERFILE = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const runtimeLine = (keyword: string) => DOCKERFILE.filter((i) => i.keyword === keyword && i.stage === 1).at(-1)?.args ?? '';
/** The image's CMD (`run /config/host.toml`) and its user's uid. */
const IMAGE_CMD = execForm(runtimeLine('CMD'));
const IMAGE_CONFIG = IMAGE_CMD.at(-1) as string;
const IMAGE_UID = Number(runtimeLine('USER').split(':')[0]);

interface EffectiveConfig {
  host: { http: string; shutdown_timeout_ms: number };
  danube: { service_url: string };
  connectors: { name: string; plugin: string; config: Record<string, unknown> & { routes: { from: string; to: string }[] } }[];
}

/** `danube-connect validate --print` of the built CLI in a clean environment: the effective config, secrets masked. */
function validate(file: string, env: Record<string, string> = {}): EffectiveConfig {
  const run = spawnSync(process.execPath, [CLI, 'validate', '--print', file], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
  expect(run.stderr, `${relative(ROOT, file)} validates`).toBe('');
  expect(run.status).toBe(0);
  const lines = run.stdout.trimEnd().split('\n');
  expect(lines.at(-1)).toMatch(/^ok: \d+ connectors?$/);
  return JSON.parse(lines.slice(0, -1).join('\n')) as EffectiveConfig;
}

const hostToml = (folder: string) => join(EXAMPLES, folder, 'host.toml');
const portOf = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));

describe('every example host.toml', () => {
  const files = readdirSync(EXAMPLES, { recursive: true, encoding: 'utf8' }).filter((f) => posix.basename(f) === 'host.toml');
  it('exists where the READMEs point', () => {
    expect(files).toContain('compose/host.toml');
  });
  it.each(files)('%s passes danube-connect validate', (file) => {
    const config = validate(join(EXAMPLES, file), { HOSTNAME: 'example-0' });
    expect(config.connectors.length).toBeGreaterThan(0);
  });
});

describe('examples/compose', () => {
  const compose = parse(readFileSync(join(EXAMPLES, 'compose/docker-compose.yml'), 'utf8')) as {
    services: Record<string, { image?: string; build?: string; command?: string[]; volumes?: string[]; ports?: string[]; tmpfs?: string[]; stop_grace_period?: string; depends_on?: Record<string, { condition: string }> }>;
    volumes: Record<string, unknown>;
  };
  const { mosquitto, danube, connect } = compose.services;
  let config: EffectiveConfig;
  beforeAll(() => {
    config = validate(hostToml('compose'));
  });
  const flag = (name: string) => danube?.command?.[danube.command.indexOf(name) + 1];

  it('builds this repository\'s Dockerfile and mounts host.toml where the image reads it', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['connect', 'danube', 'mosquitto']);
    expect(resolve(EXAMPLES, 'compose', connect?.build ?? '')).toBe(ROOT.replace(/\/$/, ''));
    expect(IMAGE_CMD).toEqual(['run', '/config/host.toml']);
    expect(connect?.volumes).toContain(`./host.toml:${IMAGE_CONFIG}:ro`);
    expect(connect?.depends_on?.danube?.condition).toBe('service_healthy');
  });

  it('publishes the [host] http port on the machine\'s loopback only', () => {
    expect(config.host.http).toBe('0.0.0.0:9464');
    expect(connect?.ports).toEqual([`127.0.0.1:${portOf(config.host.http)}:${portOf(config.host.http)}`]);
  });

  it('gives the host longer than its shutdown timeout to drain on docker stop', () => {
    const grace = /^(\d+)s$/.exec(connect?.stop_grace_period ?? '');
    expect(Number(grace?.[1]) * 1000).toBeGreaterThan(config.host.shutdown_timeout_ms);
  });

  it('runs the Danube broker image the project checked against, standalone, advertising the address host.toml dials', () => {
    expect(danube?.image).toBe('ghcr.io/danube-messaging/danube-broker:v0.15.1');
    expect(flag('--mode')).toBe('standalone');
    expect(`http://${flag('--advertised-addr')}`).toBe(config.danube.service_url);
    expect(portOf(flag('--broker-addr') ?? '')).toBe(portOf(config.danube.service_url));
    // A restarted standalone broker does not serve its old topics (docs/danube-protocol.md §1): a fresh data dir.
    expect(danube?.tmpfs).toEqual([flag('--data-dir')]);
  });

  it('points every connector at the mosquitto service, whose config keeps data as source-mqtt\'s README says', () => {
    const conf = readFileSync(join(EXAMPLES, 'compose/mosquitto.conf'), 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    const listener = conf.find((l) => l.startsWith('listener '))?.split(/\s+/)[1];
    for (const connector of config.connectors) expect(connector.config.url, connector.name).toBe(`mqtt://mosquitto:${listener}`);
    expect(mosquitto?.volumes).toContain('./mosquitto.conf:/mosquitto/config/mosquitto.conf:ro');
    const data = mosquitto?.volumes?.find((v) => v.startsWith('mosquitto-data:'))?.split(':')[1];
    expect(compose.volumes).toHaveProperty('mosquitto-data');
    expect(conf).toContain(`persistence_location ${data}/`);
    const readme = readFileSync(join(ROOT, 'plugins/source-mqtt/README.md'), 'utf8');
    const block = /<!-- mosquitto-example:start -->\n```conf\n([\s\S]*?)\n```\n<!-- mosquitto-example:end -->/.exec(readme)?.[1] ?? '';
    const settings = block.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#') && !l.startsWith('persistence_location'));
    expect(settings.length).toBeGreaterThan(5);
    for (const setting of settings) expect(conf, setting).toContain(setting);
  });
});

describe('examples/kubernetes', () => {
  const example = loadKubernetesExample();
  const set = example.ofKind('StatefulSet');
  const pod = set.spec.template.spec;
  const container = pod.containers[0];
  const configMap = example.ofKind('ConfigMap');
  const secret = example.ofKind('Secret');
  const service = example.ofKind('Service');
  const podName = `${set.metadata.name}-0`;
  let config: EffectiveConfig;
  let source: EffectiveConfig['connectors'][number] | undefined;
  beforeAll(() => {
    const file = join(dir, 'host.toml');
    writeFileSync(file, example.hostToml);
    config = validate(file, example.podEnv(0));
    source = config.connectors.find((c) => c.plugin.startsWith('@danube-plugin/source-mqtt@'));
  });

  it('lists every manifest of the folder in kustomization.yaml', () => {
    expect([...example.resources].sort()).toEqual(example.files.sort());
  });

  it('is a StatefulSet whose MQTT client ids are made from the stable pod name', () => {
    expect(set.kind).toBe('StatefulSet');
    expect(set.spec.replicas).toBeGreaterThan(1);
    expect((container.env as { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[]).find((e) => e.name === 'HOSTNAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(example.hostToml).toContain('client_id = "iot-${HOSTNAME}"');
    expect(source?.config.client_id).toBe(`iot-${podName}`);
  });

  it('splits the MQTT load between the replicas with shared subscriptions', () => {
    const routes = source?.config.routes ?? [];
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) expect(route.from).toMatch(/^\$share\/danube-connect\/[^/]/);
  });

  it('takes the MQTT credentials from the Secret and never prints them', () => {
    expect(example.hostToml).toContain('password = "${MQTT_PASSWORD}"');
    expect(source?.config.username).toBe('***');
    expect(source?.config.password).toBe('***');
    for (const value of Object.values(secret.stringData as Record<string, string>)) expect(JSON.stringify(config)).not.toContain(value);
  });

  it('probes /healthz (liveness) and /readyz (readiness) on the port host.toml binds on every interface', () => {
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    const port = (container.ports as { name: string; containerPort: number }[]).find((p) => p.name === container.livenessProbe.httpGet.port);
    expect(container.readinessProbe.httpGet.port).toBe(port?.name);
    expect(config.host.http).toBe(`0.0.0.0:${port?.containerPort}`); // the kubelet dials the pod IP, not its loopback
  });

  it('runs as the image\'s non-root user, without privilege escalation, and drains within the grace period', () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBe(IMAGE_UID);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(container.securityContext.capabilities.drop).toEqual(['ALL']);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(config.host.shutdown_timeout_ms);
  });

  it('mounts the ConfigMap where the image reads host.toml, behind a headless Service', () => {
    expect(container.args).toEqual(IMAGE_CMD);
    const mount = (container.volumeMounts as { name: string; mountPath: string }[]).find((m) => m.mountPath === dirname(IMAGE_CONFIG));
    expect((pod.volumes as { name: string; configMap?: { name: string } }[]).find((v) => v.name === mount?.name)?.configMap?.name).toBe(configMap.metadata.name);
    expect(service.spec.clusterIP).toBe('None');
    expect(set.spec.serviceName).toBe(service.metadata.name);
    expect(service.spec.selector).toEqual(set.spec.selector.matchLabels);
    expect(set.spec.template.metadata.labels).toMatchObject(set.spec.selector.matchLabels);
  });
});
