import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { DanubeClient } from '../../src/danube/danube-client.js';
import { CHILD_EXIT_CODES } from '../../src/plugin/protocol.js';
import { TestBroker } from '@danube-connect/testing';
import { forkChild } from './fork-child.js';

// Graceful stops of real children (the built bootstrap) under load: a clean stop exits 0 and loses nothing.

const WAIT = { timeout: 20_000, interval: 50 };

async function startBroker(): Promise<TestBroker> {
  const broker = await TestBroker.start();
  onTestFinished(() => broker.stop());
  return broker;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dc-child-stop-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

describe('connector child: graceful stop under load', () => {
  it('a push source sending from an event emitter at ~1,000 records/s, stopped mid-stream: exit 0, every accepted record committed, none acked that Danube lacks', async () => {
    const broker = await startBroker();
    const topic = `/default/emitter-${randomBytes(4).toString('hex')}`;
    const dir = tempDir();
    const acceptedFile = join(dir, 'accepted.txt');
    const ackedFile = join(dir, 'acked.txt');
    const child = forkChild();
    child.startFixture({ plugin: 'emitter-source', config: { topic, acceptedFile, ackedFile }, serviceUrl: broker.serviceUrl, runtime: { maxInFlight: 16 } });
    await child.next('ready');
    // Danube slower than the intake: the window stays full and sends wait in it.
    broker.delayAcks(5);
    await vi.waitFor(() => expect(lines(ackedFile).length).toBeGreaterThanOrEqual(100), WAIT);

    child.send({ type: 'stop', timeoutMs: 10_000 });
    const stopped = await child.next('stopped');
    const exit = await child.exit();
    expect(exit, child.stderr()).toEqual({ code: CHILD_EXIT_CODES.ok, signal: null });
    expect(stopped.abandoned).toBe(0);
    const accepted = lines(acceptedFile);
    const acked = lines(ackedFile);
    // Accepted in send order, acked in the same order, every one of them.
    expect(acked).toEqual(accepted.map(Number).sort((a, b) => a - b).map(String));
    const inDanube = new Set(broker.storedMessages(topic).map((m) => m.payload.toString()));
    expect(acked.filter((n) => !inDanube.has(n))).toEqual([]);
  });

  it('a sink whose write honours its cancellation signal, stopped with a batch in progress: the batch finishes and is acked, exit 0', async () => {
    const broker = await startBroker();
    const topic = `/default/slow-${randomBytes(4).toString('hex')}`;
    broker.createTopic(topic, { dispatch: 'reliable' });
    const dir = tempDir();
    const file = join(dir, 'written.txt');
    const startedFile = join(dir, 'started.txt');
    const child = forkChild();
    child.startFixture({ plugin: 'slow-batch-sink', config: { topic, file, startedFile }, serviceUrl: broker.serviceUrl, runtime: { batchSize: 4, batchTimeoutMs: 20 } });
    await child.next('ready');
    const client = new DanubeClient({ serviceUrl: broker.serviceUrl });
    onTestFinished(() => client.close(1_000));
    const producer = await client.createProducer({ topic, name: 'slow-test' });
    for (let i = 0; i < 30; i++) await producer.send(`m${i}`);
    await vi.waitFor(() => expect(lines(startedFile).length).toBeGreaterThanOrEqual(2), WAIT);

    child.send({ type: 'stop', timeoutMs: 10_000 });
    const stopped = await child.next('stopped');
    expect(await child.exit(), child.stderr()).toEqual({ code: CHILD_EXIT_CODES.ok, signal: null });
    expect(stopped.abandoned).toBe(0);
    // Every batch that started was written (the one in progress at the stop included).
    const started = lines(startedFile).reduce((sum, n) => sum + Number(n), 0);
    expect(lines(file)).toHaveLength(started);
  });
});
