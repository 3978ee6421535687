import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { status } from '@grpc/grpc-js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { expectStatus, openConsumer, openProducer, RawClients } from './helpers.js';

/** The CLI runs from dist/ (`npm test` builds first; test/require-build.ts fails the run without a build). */
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

function startCli(args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = new Promise<{ serviceUrl: string; adminUrl: string }>((resolve, reject) => {
    child.stdout.on('data', () => {
      const match = /^TestBroker listening service_url=(\S+) admin_url=(\S+)\n/.exec(stdout);
      if (match) resolve({ serviceUrl: match[1] as string, adminUrl: match[2] as string });
    });
    void exited.then((code) => reject(new Error(`CLI exited with ${code}: ${stderr}`)));
  });
  // Cases that expect a failed start never await it.
  listening.catch(() => {});
  return { child, listening, exited, output: () => ({ stdout, stderr }) };
}

describe('TestBroker CLI', () => {
  it('prints one listening line, serves the protocol with the size policy and stops on SIGTERM', async () => {
    const cli = startCli(['--port', '0', '--admin-port', '0', '--host', '127.0.0.1', '--max-message-size', '4']);
    const { serviceUrl, adminUrl } = await cli.listening;
    expect(serviceUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const clients = new RawClients(serviceUrl);
    const producer = await openProducer(clients, '/default/cli');
    await producer.send('four');
    await expectStatus(producer.send('fives'), status.INVALID_ARGUMENT, /\b4 bytes/);
    expect((await new RawClients(adminUrl).admin('BrokerAdmin', 'ListNamespaces', {})).namespaces).toContain('default');
    clients.close();
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(cli.output().stdout.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('--live-tail-capacity emulates the live-tail skip (docs/danube-protocol.md §9.4): a subscription further behind skips the oldest', async () => {
    const cli = startCli(['--port', '0', '--admin-port', '0', '--live-tail-capacity', '5']);
    const { serviceUrl } = await cli.listening;
    const clients = new RawClients(serviceUrl);
    onTestFinished(() => clients.close());
    const producer = await openProducer(clients, '/default/cli-tail', { dispatch_strategy: 'Reliable' });
    const consumer = await openConsumer(clients, '/default/cli-tail');
    for (let i = 0; i < 30; i++) await producer.send(`m${i}`);
    const window = await consumer.reader.take(10);
    expect(window.map((m) => m.msg_id?.topic_offset)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    await consumer.ack(window[0]!);
    // 20 undelivered behind the end, 5 kept: offsets 10..24 are skipped, the next one is 25.
    expect((await consumer.reader.take(1))[0]?.msg_id?.topic_offset).toBe('25');
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
  });

  it('stops on SIGINT and rejects malformed options with exit code 2', async () => {
    const cli = startCli(['--port', '0', '--admin-port', '0']);
    await cli.listening;
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
    const bad = startCli(['--port', 'abc']);
    expect(await bad.exited).toBe(2);
    expect(bad.output().stderr).toMatch(/--port must be a non-negative integer/);
  });
});
