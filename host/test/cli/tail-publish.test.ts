import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DanubeClient } from '@danube-connect/sdk';
import { mintJwt, TestBroker } from '@danube-connect/testing';
import { describe, expect, onTestFinished, test, vi } from 'vitest';
import { tempProject } from '../temp-project.js';
import { BUILT_CLI, runCli } from './run-cli.js';

// `danube-connect tail` and `publish` as users run them: the built CLI in processes of their own, against the
// TestBroker on loopback (with JWT auth, so the token from DANUBE_TOKEN demonstrably reaches the broker).
const WAIT = { timeout: 30_000, interval: 50 };
const JWT_SECRET = 'tail-publish-test-secret';

interface Cli {
  signal: (signal: NodeJS.Signals) => void;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function cli(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Cli {
  const child = spawn(process.execPath, [BUILT_CLI, ...args], { env: { PATH: process.env['PATH'], ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  if (stdin === undefined) child.stdin.end();
  else child.stdin.end(stdin);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exit;
  });
  return { signal: (signal) => child.kill(signal), stdout: () => stdout, stderr: () => stderr, exit };
}

async function authBroker(): Promise<{ broker: TestBroker; token: string }> {
  const broker = await TestBroker.start({ auth: { jwtSecret: JWT_SECRET } });
  onTestFinished(() => broker.stop());
  return { broker, token: await mintJwt(JWT_SECRET, { iss: 'test', exp: Math.floor(Date.now() / 1000) + 3600, sub: 'cli-test', principal_type: 'service_account', principal_name: 'cli-test' }) };
}

/** A tail that has subscribed (a new subscription only sees what is published after this). */
async function subscribedTail(args: string[], env: NodeJS.ProcessEnv): Promise<Cli> {
  const tail = cli(['tail', ...args], env);
  await vi.waitFor(() => expect(tail.stderr()).toMatch(/^tail: subscription tail-[0-9a-f]{8} on \S+ \(\S+\), from the latest message; Ctrl-C to stop\n/), WAIT);
  return tail;
}

describe('danube-connect tail and publish', () => {
  test('publish then tail round trip: key, attributes and payloads arrive, the token from DANUBE_TOKEN is used and never printed', async () => {
    const { broker, token } = await authBroker();
    const env = { DANUBE_TOKEN: token };
    // The topic exists once something was published to it; a tail cannot subscribe before.
    expect(await cli(['publish', '/default/round', 'before', '--service-url', broker.serviceUrl], env).exit).toBe(0);
    const tail = await subscribedTail(['/default/round', '--count', '2', '--json'], { ...env, DANUBE_SERVICE_URL: broker.serviceUrl });
    const publish = cli(['publish', '/default/round', 'hello', 'wörld', '--key', 'k1', '--attr', 'a=1', '-a', 'b=x=y', '--service-url', broker.serviceUrl], env);
    expect(await publish.exit).toBe(0);
    expect(publish.stdout()).toMatch(/^sent \/default\/round request=\d+ bytes=5 key="k1"\nsent \/default\/round request=\d+ bytes=6 key="k1"\n$/);
    expect(publish.stderr()).toBe('publish: 2 messages sent to /default/round\n');
    expect(await tail.exit).toBe(0);
    const printed = tail.stdout().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(printed).toEqual([
      { topic: '/default/round', partition: null, offset: '1', key: 'k1', attributes: { a: '1', b: 'x=y' }, publishTime: expect.any(String), encoding: 'utf8', payload: 'hello' },
      { topic: '/default/round', partition: null, offset: '2', key: 'k1', attributes: { a: '1', b: 'x=y' }, publishTime: expect.any(String), encoding: 'utf8', payload: 'wörld' },
    ]);
    for (const text of [tail.stdout(), tail.stderr(), publish.stdout(), publish.stderr()]) expect(text).not.toContain(token);
    // Without the token the broker refuses, and the command says so.
    const refused = cli(['publish', '/default/round', 'x', '--service-url', broker.serviceUrl], {});
    expect(await refused.exit).toBe(1);
    expect(refused.stderr()).toMatch(/^publish: cannot create a producer for \/default\/round on http:\/\/127\.0\.0\.1:\d+: .+/);
  });

  test('publish sends stdin lines to a partitioned topic; tail reads every partition and prints one line per message', async () => {
    const { broker, token } = await authBroker();
    const env = { DANUBE_TOKEN: token, DANUBE_SERVICE_URL: broker.serviceUrl };
    expect(await cli(['publish', '/default/lines', 'create', '--partitions', '2'], env).exit).toBe(0);
    const tail = await subscribedTail(['/default/lines', '-n', '3'], env);
    const publish = cli(['publish', '/default/lines', '--partitions', '2'], env, 'line one\n\nline "three"');
    expect(await publish.exit).toBe(0);
    expect(publish.stdout()).toMatch(/^(sent \/default\/lines-part-[01] partition=[01] request=\d+ bytes=\d+\n){3}$/);
    expect(await tail.exit).toBe(0);
    const lines = tail.stdout().trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/^\/default\/lines-part-[01] partition=[01] offset=\d+ ".*"$/);
    expect(lines.map((line) => line.slice(line.indexOf(' "') + 1)).sort()).toEqual(['""', '"line \\"three\\""', '"line one"']);
  });

  test('tail prints a payload that is not UTF-8 as base64, and takes the broker from host.toml', async () => {
    const broker = await TestBroker.start();
    onTestFinished(() => broker.stop());
    const client = new DanubeClient({ serviceUrl: broker.serviceUrl });
    onTestFinished(() => client.close());
    const producer = await client.createProducer({ topic: '/default/bin', name: 'binary' });
    await producer.send('created');
    const project = tempProject({ 'host.toml': `[danube]\nservice_url = "${broker.serviceUrl}"\n` });
    const tail = await subscribedTail(['/default/bin', project.path('host.toml'), '--count', '2'], {});
    await producer.send(Buffer.from([0xff, 0x00, 0x01, 0xfe]), { attributes: { kind: 'raw' } });
    await producer.send('ok');
    expect(await tail.exit).toBe(0);
    expect(tail.stdout()).toBe('/default/bin offset=1 attributes={"kind":"raw"} base64:/wAB/g==\n/default/bin offset=2 "ok"\n');
  });

  test('Ctrl-C ends a tail with exit 0; a topic that does not exist yet is an error, exit 1', async () => {
    const broker = await TestBroker.start();
    onTestFinished(() => broker.stop());
    expect(await cli(['publish', '/default/stop', 'created', '--service-url', broker.serviceUrl], {}).exit).toBe(0);
    const tail = await subscribedTail(['/default/stop', '--service-url', broker.serviceUrl], {});
    tail.signal('SIGINT');
    expect(await tail.exit).toBe(0);
    expect(tail.stdout()).toBe('');
    // A topic nothing was published to cannot be subscribed to: said so, exit 1.
    const missing = cli(['tail', '/default/nothing-yet', '--service-url', broker.serviceUrl], {});
    expect(await missing.exit).toBe(1);
    expect(missing.stderr()).toMatch(/^tail: cannot subscribe to \/default\/nothing-yet on http:\/\/127\.0\.0\.1:\d+: .*the topic does not exist/);
  });

  test('the built CLI imports the SDK client only when tail or publish runs (the host itself loads @danube-connect/sdk/core)', () => {
    const seen = new Set<string>();
    const staticImports = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const code = readFileSync(file, 'utf8');
      for (const [, specifier] of code.matchAll(/^(?:import|export)\s[^;]*?from\s*"([^"]+)"|^import\s*"([^"]+)"/gm)) {
        if (specifier === undefined) continue;
        if (specifier.startsWith('./')) visit(join(dirname(file), specifier));
        else staticImports.add(specifier);
      }
    };
    visit(BUILT_CLI);
    expect(seen.size).toBeGreaterThan(1);
    expect(staticImports).toContain('@danube-connect/sdk/core');
    expect(staticImports).not.toContain('@danube-connect/sdk');
    expect([...seen].some((file) => readFileSync(file, 'utf8').includes('import("@danube-connect/sdk")'))).toBe(true);
  });

  test('bad command lines are refused with the reason and exit 64, an invalid host.toml with exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['tail'], /^danube-connect tail: tail needs a topic, e.g. \/default\/readings\n/],
      [['tail', '/default/t', '--from', 'earliest', '--service-url', 'http://127.0.0.1:1'], /^danube-connect tail: --from earliest cannot be honoured: Danube starts a new subscription at the end of the topic and cannot replay it/],
      [['tail', '/default/t', '--from', 'yesterday'], /^danube-connect tail: --from must be latest \(or earliest, which Danube cannot do\), got "yesterday"\n/],
      [['tail', '/default/t', '--count', '0'], /^danube-connect tail: --count must be a whole number >= 1, got "0"\n/],
      [['tail', '/default/t', '--subscription', 'a/b'], /^danube-connect tail: --subscription "a\/b" is invalid/],
      [['tail', '/default/t'], /^danube-connect tail: no broker: give --service-url <url>, a host.toml with \[danube\], or set DANUBE_SERVICE_URL\n/],
      [['tail', '/default/t', 'host.toml', '--service-url', 'http://127.0.0.1:1'], /^danube-connect tail: give either --service-url or host.toml, not both\n/],
      [['tail', 'no-namespace', '--service-url', 'http://127.0.0.1:1'], /^danube-connect tail: topic name "no-namespace" is invalid: expected \/<namespace>\/<topic>/],
      [['tail', '/default/t', '--service-url', 'ftp://x'], /^danube-connect tail: .*ftp:\/\/x/],
      [['publish'], /^danube-connect publish: publish needs a topic, e.g. \/default\/readings\n/],
      [['publish', '/default/t', 'm', '--attr', 'novalue'], /^danube-connect publish: --attr takes key=value, got "novalue"\n/],
      [['publish', '/default/t', 'm', '--attr', '=v'], /^danube-connect publish: --attr takes key=value, got "=v"\n/],
      [['publish', '/default/t', 'm', '--partitions', 'two'], /^danube-connect publish: --partitions must be a whole number >= 1, got "two"\n/],
      [['publish', '/default/t', 'm', '--dispatch', 'fast'], /^danube-connect publish: --dispatch must be reliable or non_reliable, got "fast"\n/],
      [['publish', '/default/t', 'm', '--frobnicate'], /^danube-connect publish: Unknown option '--frobnicate'/],
    ];
    const cwd = tempProject().dir;
    for (const [args, stderr] of cases) {
      const result = await runCli(args, cwd);
      expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 64, stderr: expect.stringMatching(stderr) });
      expect(result.stderr).toContain('\n\nUsage: danube-connect ');
    }
    const project = tempProject({ 'host.toml': '[danube]\nservice_url = 42\n' });
    const invalid = await runCli(['publish', '/default/t', 'm', '--config', 'host.toml'], project.dir);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^host\.toml: .*service_url.*\n/);
  });
});
