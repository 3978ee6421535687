import { describe, expect, it, onTestFinished } from 'vitest';
import { DanubeClient } from '../../src/danube/danube-client.js';
import type { DanubeLogger } from '../../src/danube/logger.js';
import { uniqueName, uniqueTopic } from '../contract/target.js';
import { startBroker } from '../broker.js';

/** Records the client's warnings and wakes waiters on each. */
class WarnLog implements DanubeLogger {
  readonly warnings: Array<{ obj: Record<string, unknown>; msg: string | undefined }> = [];
  private waiters: Array<() => void> = [];
  debug(): void {}
  info(): void {}
  error(): void {}
  warn(obj: object, msg?: string): void {
    this.warnings.push({ obj: obj as Record<string, unknown>, msg });
    for (const wake of this.waiters.splice(0)) wake();
  }
  /** Resolves once a warning satisfies `predicate`, or when `alsoWhen` settles first. */
  async until(predicate: (w: WarnLog['warnings'][number]) => boolean, alsoWhen: Promise<unknown>): Promise<void> {
    let done = false;
    void alsoWhen.finally(() => {
      done = true;
      for (const wake of this.waiters.splice(0)) wake();
    });
    while (!done && !this.warnings.some(predicate)) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}

const settled = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (err: { code?: string }) => `rejected ${err.code}`,
  );

describe('DanubeClient default retry budget', () => {
  it('with default options a send and an ack wait through a broker restart on the same port and then succeed', async () => {
    const broker = await startBroker({ failurePolicy: { ackTimeoutMs: 60_000 } });
    const log = new WarnLog();
    // Default retry options: what a plugin gets unless it says otherwise.
    const client = new DanubeClient({ serviceUrl: broker.serviceUrl, logger: log });
    onTestFinished(() => client.close(1_000));
    const topic = uniqueTopic('restart');
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    const consumer = await client.subscribe({ topic, name: uniqueName('c'), subscription: 's', type: 'exclusive' });
    await producer.send('before');
    const delivered = await consumer.receive();

    await broker.goOffline();
    const sent = settled(producer.send('during'));
    const acked = settled(consumer.ack(delivered));
    // The old default gave up after 5 retries (at most 3.1 s of backoff). The 8th attempt of the send comes after
    // at least 5.6 s of backoff, so by then the ack, which started with it, has outlived the old budget too.
    await log.until((w) => w.msg === 'send failed, retrying' && Number(w.obj.attempt) >= 7, Promise.race([sent, acked]));
    await broker.comeBackOnline();

    expect(await sent).toBe('resolved');
    expect(await acked).toBe('resolved');
    expect(broker.storedMessages(topic).map((m) => m.payload.toString())).toEqual(['before', 'during']);
  }, 60_000);

  it('256 sends waiting on retry through an outage print no MaxListenersExceededWarning, and all arrive after it', async () => {
    const broker = await startBroker();
    const log = new WarnLog();
    const client = new DanubeClient({ serviceUrl: broker.serviceUrl, logger: log, retry: { initialDelayMs: 20, maxDelayMs: 200 } });
    onTestFinished(() => client.close(1_000));
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning);
    process.on('warning', onWarning);
    onTestFinished(() => void process.off('warning', onWarning));
    const topic = uniqueTopic('many-waiting');
    const producer = await client.createProducer({ topic, name: uniqueName('p'), ordering: 'none', maxInFlight: 256 });
    await producer.send('warm');

    await broker.goOffline();
    const sends = Array.from({ length: 256 }, (_, i) => producer.send(`m${i}`));
    const all = Promise.all(sends);
    all.catch(() => undefined);
    // Every send is asleep between retries at least twice over, each one waiting on the producer's close signal.
    const retried = () => log.warnings.filter((w) => w.msg === 'send failed, retrying' && Number(w.obj.attempt) === 2).length;
    await log.until(() => retried() >= 256, all);
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    await broker.comeBackOnline();
    await all;

    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
    expect(broker.storedMessages(topic)).toHaveLength(257);
  }, 60_000);

  it('a retried send keeps the publish time of its first attempt', async () => {
    const broker = await startBroker();
    const log = new WarnLog();
    const client = new DanubeClient({ serviceUrl: broker.serviceUrl, logger: log, retry: { initialDelayMs: 20, maxDelayMs: 100 } });
    onTestFinished(() => client.close(1_000));
    const topic = uniqueTopic('publish-time-retry');
    const producer = await client.createProducer({ topic, name: uniqueName('p') });
    await producer.send('warm');
    broker.rejectSendsFor(60_000);
    const before = Date.now();
    const sent = settled(producer.send('retried'));
    await log.until((w) => w.msg === 'send failed, retrying', sent);
    // The first attempt has failed by now. Once the clock has moved past this instant, any attempt made after the
    // broker takes sends again would stamp a later time.
    const failedBy = Date.now();
    while (Date.now() <= failedBy) await new Promise((resolve) => setImmediate(resolve));
    broker.rejectSendsFor(0);
    expect(await sent).toBe('resolved');
    const stored = broker.storedMessages(topic).find((m) => m.payload.toString() === 'retried');
    expect(Number(stored?.publishTime)).toBeGreaterThanOrEqual(before);
    expect(Number(stored?.publishTime)).toBeLessThanOrEqual(failedBy);
  });
});
