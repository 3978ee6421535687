import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { DanubeClient } from '../../src/danube/danube-client.js';
import { CHILD_EXIT_CODES } from '../../src/plugin/protocol.js';
import { TestBroker } from '../../src/testing/index.js';
import { CHILD_ENTRY, forkChild, type ForkedChild } from './fork-child.js';
import { unusedLoopbackUrl } from '../../src/testing/unused-loopback-url.js';

// Real child processes of the built bootstrap (dist/) running fixture plugins named after what they provoke,
// against an in-process TestBroker. Every wait has a deadline; nothing sleeps.

const SDK_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const WAIT = { timeout: 15_000, interval: 50 };

async function startBroker(): Promise<TestBroker> {
  const broker = await TestBroker.start();
  onTestFinished(() => broker.stop());
  return broker;
}

function uniqueTopic(prefix: string): string {
  return `/default/${prefix}-${randomBytes(4).toString('hex')}`;
}

function tempFile(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dc-child-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, name);
}

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

function stored(broker: TestBroker, topic: string): string[] {
  try {
    return broker.storedMessages(topic).map((m) => m.payload.toString());
  } catch {
    return []; // the topic does not exist yet
  }
}


/** Stops the child and checks the clean exit. */
async function stopCleanly(child: ForkedChild, timeoutMs = 10_000) {
  child.send({ type: 'stop', timeoutMs });
  const stopped = await child.next('stopped');
  expect(await child.exit()).toEqual({ code: CHILD_EXIT_CODES.ok, signal: null });
  return stopped;
}

describe('connector child: running', () => {
  it('starts counter-source: ready, records in Danube, pongs with stats, metrics with connector and topic labels', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('counter');
    const child = forkChild();
    child.startFixture({ plugin: 'counter-source', config: { topic, count: 25 }, serviceUrl: broker.serviceUrl });
    expect(await child.next('ready')).toEqual({ v: 1, type: 'ready', pid: child.pid, sdkVersion: SDK_VERSION });

    const expected = Array.from({ length: 25 }, (_, i) => String(i));
    await vi.waitFor(() => expect(stored(broker, topic)).toEqual(expected), WAIT);
    const pong = await vi.waitFor(async () => {
      const p = await child.ping();
      expect(p.stats).toEqual({ received: 25, processed: 25, deadLettered: 0, dropped: 0, inFlight: 0, failed: 0, retried: 0 });
      return p;
    }, WAIT);
    expect(pong.state).toBe('connected');
    expect(pong.memory.rssBytes).toBeGreaterThan(pong.memory.heapUsedBytes);
    expect(pong.memory.heapUsedBytes).toBeGreaterThan(0);
    expect(pong.eventLoopDelayP99Ms).toBeGreaterThanOrEqual(0);

    child.send({ type: 'metrics', id: 7 });
    const metrics = await child.next('metrics');
    expect(metrics.id).toBe(7);
    const received = metrics.metrics.find((m) => m.name === 'danube_connector_messages_received_total');
    expect(received?.values).toEqual([{ labels: { connector: 'c-counter-source', topic }, value: 25 }]);

    expect(await stopCleanly(child)).toMatchObject({ abandoned: 0 });
    const logs = child.logs();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.every((line) => line.connector === 'c-counter-source' && line.plugin === '@fixtures/counter-source@1.0.0')).toBe(true);
  });

  it("a connector's own health() reaches the host: pong degraded with its detail while Danube is fine", async () => {
    const broker = await startBroker();
    const child = forkChild();
    child.startFixture({ plugin: 'reports-degraded', serviceUrl: broker.serviceUrl });
    await child.next('ready');
    expect(await child.ping()).toMatchObject({ state: 'degraded', detail: 'connector degraded: upstream broker unreachable' });
    await stopCleanly(child);
  });

  it('stop drains and exits 0, and everything committed is in Danube', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('drain');
    const commitFile = tempFile('committed.txt');
    const child = forkChild();
    child.startFixture({ plugin: 'counter-source', config: { topic, commitFile }, serviceUrl: broker.serviceUrl });
    await child.next('ready');
    await vi.waitFor(() => expect(lines(commitFile).length).toBeGreaterThanOrEqual(100), WAIT);

    const stopped = await stopCleanly(child);
    expect(stopped.abandoned).toBe(0);
    const committed = lines(commitFile);
    const inDanube = new Set(stored(broker, topic));
    expect(committed.filter((n) => !inDanube.has(n))).toEqual([]);
    // Committed in poll order, without gaps.
    expect(committed).toEqual(committed.map((_, i) => String(i)));
  });

  it('runs collect-sink: every message published to its topic is written', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('collect');
    const file = tempFile('collected.txt');
    // A new subscription starts at the topic's end: with the topic there, ready means subscribed.
    broker.createTopic(topic, { dispatch: 'reliable' });
    const child = forkChild();
    child.startFixture({ plugin: 'collect-sink', config: { topic, file }, serviceUrl: broker.serviceUrl });
    await child.next('ready');
    expect((await child.ping()).state).toBe('connected');

    const client = new DanubeClient({ serviceUrl: broker.serviceUrl });
    onTestFinished(() => client.close(1_000));
    const producer = await client.createProducer({ topic, name: 'collect-test' });
    const sent = Array.from({ length: 30 }, (_, i) => `m${i}`);
    for (const payload of sent) await producer.send(payload);

    await vi.waitFor(() => expect(new Set(lines(file))).toEqual(new Set(sent)), WAIT);
    await stopCleanly(child);
  });

  it('is ready while Danube is down, pushes degraded, and abandons what it could not publish', async () => {
    const child = forkChild();
    child.startFixture({ plugin: 'counter-source', config: { topic: uniqueTopic('down') }, serviceUrl: await unusedLoopbackUrl() });
    await child.next('ready');
    expect(await child.next('status')).toMatchObject({ state: 'degraded', detail: expect.stringMatching(/Danube unavailable/) });
    expect((await child.ping()).state).toBe('degraded');
    child.send({ type: 'stop', timeoutMs: 500 });
    const stopped = await child.next('stopped');
    expect(stopped.abandoned).toBeGreaterThan(0);
    expect(await child.exit()).toEqual({ code: CHILD_EXIT_CODES.drainTimeout, signal: null });
  });

  it('ignores messages that fail the protocol guards', async () => {
    const child = forkChild();
    child.sendRaw('hello');
    child.sendRaw({ v: 2, type: 'start' });
    child.sendRaw({ v: 1, type: 'launch' });
    const pong = await child.ping();
    expect(pong).toMatchObject({ state: 'degraded', detail: 'waiting for the start message' });
    expect(child.messages.map((m) => m.type)).toEqual(['pong']);
  });
});

describe('connector child: start failures', () => {
  it('crash-on-start: failed create_threw naming connector, plugin and cause, exit startFailed', async () => {
    const child = forkChild();
    child.startFixture({ plugin: 'crash-on-start', serviceUrl: 'http://127.0.0.1:1' });
    const failed = await child.next('failed');
    expect(failed.code).toBe('create_threw');
    expect(failed.message).toMatchInlineSnapshot(
      `"connector "c-crash-on-start" (plugin @fixtures/crash-on-start@1.0.0): create() threw: Error: crash-on-start: create throws on purpose"`,
    );
    expect(await child.exit()).toEqual({ code: CHILD_EXIT_CODES.startFailed, signal: null });
  });

  it('wrong-default-export: failed wrong_default_export, exit startFailed', async () => {
    const child = forkChild();
    child.startFixture({ plugin: 'wrong-default-export', serviceUrl: 'http://127.0.0.1:1' });
    const failed = await child.next('failed');
    expect(failed.code).toBe('wrong_default_export');
    expect(failed.message).toMatch(
      /^connector "c-wrong-default-export" \(plugin @fixtures\/wrong-default-export@1\.0\.0\): the default export of \S+\/wrong-default-export\/index\.js is not a definePlugin\(\.\.\.\) value: got an object without the definePlugin brand \(keys: kind, create\)$/,
    );
    expect(await child.exit()).toEqual({ code: CHILD_EXIT_CODES.startFailed, signal: null });
  });

  it('a missing entry: failed entry_import_failed', async () => {
    const child = forkChild();
    child.startFixture({ plugin: 'absent', entry: join(tmpdir(), 'no-such-plugin', 'index.js'), serviceUrl: 'http://127.0.0.1:1' });
    const failed = await child.next('failed');
    expect(failed.code).toBe('entry_import_failed');
    expect(failed.message).toMatch(/^connector "c-absent" \(plugin @fixtures\/absent@1\.0\.0\): cannot import the entry .*ERR_MODULE_NOT_FOUND/);
    expect(await child.exit()).toEqual({ code: CHILD_EXIT_CODES.startFailed, signal: null });
  });

  it('an invalid Danube URL: failed danube_connect_failed', async () => {
    const child = forkChild();
    child.startFixture({ plugin: 'counter-source', config: { topic: '/default/x' }, serviceUrl: 'ftp://nowhere' });
    const failed = await child.next('failed');
    expect(failed.code).toBe('danube_connect_failed');
    expect(failed.message).toMatch(/^connector "c-counter-source" \(plugin @fixtures\/counter-source@1\.0\.0\): invalid Danube settings for ftp:\/\/nowhere: DanubeError \[DC_ERR_INVALID_URL\]/);
    expect(await child.exit()).toEqual({ code: CHILD_EXIT_CODES.startFailed, signal: null });
  });

  it('never-ready: answers pings while starting; a stop gives up at its timeout with drainTimeout', async () => {
    const broker = await startBroker();
    const child = forkChild();
    child.startFixture({ plugin: 'never-ready', serviceUrl: broker.serviceUrl });
    await child.log((line) => line.msg === 'never-ready: start called, it never resolves');
    expect(await child.ping()).toMatchObject({ state: 'degraded', detail: 'starting' });
    child.send({ type: 'stop', timeoutMs: 300 });
    expect(await child.next('stopped')).toMatchObject({ drained: 0 });
    expect(await child.exit()).toEqual({ code: CHILD_EXIT_CODES.drainTimeout, signal: null });
    expect(child.messages.map((m) => m.type)).not.toContain('ready');
  });
});

describe('connector child: fatal errors', () => {
  it('throws-in-poll: a fatal ConnectorError is reported with its code, exit fatal', async () => {
    const broker = await startBroker();
    const child = forkChild();
    child.startFixture({ plugin: 'throws-in-poll', config: { topic: uniqueTopic('fatal') }, serviceUrl: broker.serviceUrl });
    await child.next('ready');
    const fatal = await child.next('fatal');
    expect(fatal.code).toBe('FIXTURE_GONE');
    expect(fatal.message).toMatchInlineSnapshot(`"connector "c-throws-in-poll" (plugin @fixtures/throws-in-poll@1.0.0): throws-in-poll: the external system is gone for good"`);
    expect(await child.exit()).toEqual({ code: CHILD_EXIT_CODES.fatal, signal: null });
  });

  it.each([
    { how: 'an uncaught exception', rejection: false, what: 'uncaught exception' },
    { how: 'an unhandled rejection', rejection: true, what: 'unhandled rejection' },
  ])('a plugin with $how: fatal DC_ERR_UNCAUGHT, exit uncaught', async ({ rejection, what }) => {
    const broker = await startBroker();
    const child = forkChild();
    child.startFixture({ plugin: 'uncaught-error', config: { topic: uniqueTopic('uncaught'), rejection }, serviceUrl: broker.serviceUrl });
    await child.next('ready');
    const fatal = await child.next('fatal');
    expect(fatal).toEqual({
      v: 1,
      type: 'fatal',
      code: 'DC_ERR_UNCAUGHT',
      message: `connector "c-uncaught-error" (plugin @fixtures/uncaught-error@1.0.0): ${what}: Error: uncaught-error: a bug outside any awaited call`,
    });
    expect(await child.exit()).toEqual({ code: CHILD_EXIT_CODES.uncaught, signal: null });
  });

  it('leaks-memory under --max-old-space-size=32: dies abnormally and reports nothing misleading', async () => {
    const broker = await startBroker();
    const child = forkChild({ execArgv: ['--max-old-space-size=32'] });
    child.startFixture({ plugin: 'leaks-memory', serviceUrl: broker.serviceUrl });
    const exit = await child.exit(60_000);
    expect(exit.signal !== null || (exit.code !== null && exit.code !== CHILD_EXIT_CODES.ok)).toBe(true);
    expect(child.messages.map((m) => m.type).filter((t) => t !== 'ready' && t !== 'status')).toEqual([]);
    expect(child.stderr()).toMatch(/heap/i);
  }, 90_000);
});

describe('connector child: stop and host loss', () => {
  it('ignores-stop: the drain gives up at the stop timeout, exit drainTimeout', async () => {
    const broker = await startBroker();
    const child = forkChild();
    child.startFixture({ plugin: 'ignores-stop', config: { topic: uniqueTopic('ignores') }, serviceUrl: broker.serviceUrl });
    await child.next('ready');
    child.send({ type: 'stop', timeoutMs: 500 });
    await child.next('stopped');
    expect(await child.exit()).toEqual({ code: CHILD_EXIT_CODES.drainTimeout, signal: null });
  });

  it('a second stop is ignored: one stopped, exit 0', async () => {
    const broker = await startBroker();
    const child = forkChild();
    child.startFixture({ plugin: 'counter-source', config: { topic: uniqueTopic('twice') }, serviceUrl: broker.serviceUrl });
    await child.next('ready');
    child.send({ type: 'stop', timeoutMs: 10_000 });
    child.send({ type: 'stop', timeoutMs: 1 });
    expect(await child.exit()).toEqual({ code: CHILD_EXIT_CODES.ok, signal: null });
    expect(child.messages.filter((m) => m.type === 'stopped')).toHaveLength(1);
  });

  it('a stop before start: stopped with nothing drained, exit 0', async () => {
    const child = forkChild();
    child.send({ type: 'stop', timeoutMs: 1_000 });
    expect(await child.next('stopped')).toEqual({ v: 1, type: 'stopped', drained: 0, abandoned: 0 });
    expect(await child.exit()).toEqual({ code: CHILD_EXIT_CODES.ok, signal: null });
  });

  it('exits by itself when the host closes the channel, losing nothing committed', async () => {
    const broker = await startBroker();
    const topic = uniqueTopic('orphan');
    const commitFile = tempFile('committed.txt');
    const child = forkChild();
    child.startFixture({ plugin: 'counter-source', config: { topic, commitFile }, serviceUrl: broker.serviceUrl });
    await child.next('ready');
    await vi.waitFor(() => expect(lines(commitFile).length).toBeGreaterThan(0), WAIT);
    child.process.disconnect();
    expect(await child.exit()).toEqual({ code: CHILD_EXIT_CODES.ok, signal: null });
    const inDanube = new Set(stored(broker, topic));
    expect(lines(commitFile).filter((n) => !inDanube.has(n))).toEqual([]);
  });

  it('exits by itself when the host goes away before any start', async () => {
    const child = forkChild();
    child.process.disconnect();
    expect(await child.exit()).toEqual({ code: CHILD_EXIT_CODES.ok, signal: null });
  });

  it('started without an IPC channel: a clear error on stderr, non-zero exit', async () => {
    const child = spawn(process.execPath, [CHILD_ENTRY], { stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code).toBe(64);
    expect(stderr).toMatch(/^danube-connect connector child: no IPC channel\. This module is forked by the danube-connect host/);
  });
});
