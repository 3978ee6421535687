import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { SinkConnector } from '../../src/connector.js';
import { ConnectorError } from '../../src/errors.js';
import type { SinkRecord } from '../../src/record.js';
import { expectAccounting, redeliveredAfterRestart, sendAll, sinkRuntime, sinkSetup, texts, waitForCounts } from './sink-harness.js';

/**
 * A pipelined connector (SinkConnector.pipelined) as an ordered connection is: each call's records go "on the
 * wire" (`wire`, in call order) when it is called, and its confirmation comes a turn of the event loop later,
 * or fails when `fail` says so. `open` counts calls not yet confirmed, to see the overlap.
 */
function pipelinedSink(configs: Array<{ topic: string; subscription: string }>, fail: (record: SinkRecord, attempt: number) => ConnectorError | undefined) {
  const wire: string[] = [];
  const attempts = new Map<string, number>();
  let open = 0;
  let mostOpen = 0;
  const sink: SinkConnector & { wire: string[]; mostOpen: () => number } = {
    pipelined: true,
    wire,
    mostOpen: () => mostOpen,
    consumerConfigs: () => configs,
    async processBatch(records) {
      open++;
      mostOpen = Math.max(mostOpen, open);
      const failures = records.map((r) => {
        const attempt = (attempts.get(r.text()) ?? 0) + 1;
        attempts.set(r.text(), attempt);
        return fail(r, attempt);
      });
      // Invalid data is found before anything is sent; other failures after (the broker refused it).
      const invalid = failures.find((f) => f?.kind === 'invalid_data');
      if (!invalid) wire.push(...records.map((r) => r.text()));
      try {
        await nextTurn();
        const failure = invalid ?? failures.find((f) => f !== undefined);
        if (failure) throw failure;
      } finally {
        open--;
      }
    },
  };
  return sink;
}

/** Each text's first position on the wire: a later message never goes out before an earlier one the first time. */
function firstSeen(wire: string[]): string[] {
  return [...new Set(wire)];
}

/** Each text's last position on the wire: what was written again came back in order. */
function lastSeen(wire: string[]): string[] {
  return [...new Set([...wire].reverse())].reverse();
}

/**
 * A pipelined connector as sink-mqtt is: each record `fail` passes goes on the wire and is reported written a turn
 * later; a call with a failed record throws the first failure after its other records were reported. The
 * confirmation of the call holding m-6 waits until `holdUntil` was handed over, so every record from m-7 to it is
 * in write when m-7 reaches the head of the pipeline.
 */
function gatedPipelinedSink(configs: Array<{ topic: string; subscription: string }>, holdUntil: string, fail: (record: SinkRecord) => ConnectorError | undefined) {
  const wire: string[] = [];
  let release!: () => void;
  const seen = new Promise<void>((resolve) => (release = resolve));
  const sink: SinkConnector = {
    pipelined: true,
    consumerConfigs: () => configs,
    async processBatch(records, _signal, written) {
      const failed = new Map<SinkRecord, ConnectorError>();
      for (const record of records) {
        const failure = fail(record);
        if (failure) failed.set(record, failure);
        else wire.push(record.text());
        if (record.text() === holdUntil) release();
      }
      if (records.some((r) => r.text() === 'm-6')) await seen;
      await nextTurn();
      for (const record of records) if (!failed.has(record)) written?.(record);
      const first = failed.values().next();
      if (!first.done) throw first.value;
    },
  };
  return { sink, wire };
}

describe('SinkRuntime with a pipelined connector (docs/delivery-semantics.md §4.2)', () => {
  it('every record is written and acked once, in order, with at most the window (10) in write (overlap itself: sink-runtime-lag.test.ts)', async () => {
    const { client, topic, configs, producer } = await sinkSetup();
    const sink = pipelinedSink(configs, () => undefined);
    const handle = sinkRuntime(sink, client);
    await handle.runtime.start();
    const sent = texts('m', 200);
    // Pipelined sends (the producer's window), so messages arrive faster than one write's confirmation.
    await Promise.all(sent.map((text) => producer.send(text)));
    await waitForCounts(handle.metrics, topic, (c) => c.processed === 200);
    expect(sink.wire).toEqual(sent);
    expect(sink.mostOpen()).toBeLessThanOrEqual(10);
    await handle.runtime.stop(5_000);
    await expectAccounting(handle.metrics, topic, { processed: 200, inFlight: 0 });
    expect(await redeliveredAfterRestart(client, producer, configs)).toEqual([]);
  });

  it('a retryable failure amid overlapping writes: the failed record and all after it are written again in order, nothing lost', async () => {
    const { client, topic, configs, producer } = await sinkSetup();
    const sink = pipelinedSink(configs, (record, attempt) => (record.text() === 'm-13' && attempt <= 2 ? ConnectorError.retryable('refused for now', { code: 'BUSY' }) : undefined));
    const handle = sinkRuntime(sink, client);
    await handle.runtime.start();
    const sent = texts('m', 60);
    await sendAll(producer, sent);
    await waitForCounts(handle.metrics, topic, (c) => c.processed >= 60 && c.inFlight === 0);
    expect(firstSeen(sink.wire)).toEqual(sent);
    // m-13 went out three times; between its first and last copy only later records did (those in write behind it).
    expect(sink.wire.filter((t) => t === 'm-13')).toHaveLength(3);
    const between = sink.wire.slice(sink.wire.indexOf('m-13'), sink.wire.lastIndexOf('m-13'));
    expect(between.every((t) => sent.indexOf(t) >= 13), between.join(' ')).toBe(true);
    const counts = (await handle.metrics.snapshot())[topic]!;
    expect(counts.failed).toBe(2);
    await handle.runtime.stop(5_000);
    await expectAccounting(handle.metrics, topic, { inFlight: 0, deadLettered: 0, dropped: 0 });
    expect(await redeliveredAfterRestart(client, producer, configs)).toEqual([]);
  });

  it('invalid data amid overlapping writes: the bad record is dropped (counted) and acked, the rest written in order, the stream goes on', async () => {
    const { client, topic, configs, producer } = await sinkSetup();
    const sink = pipelinedSink(configs, (record) => (record.text() === 'm-7' ? ConnectorError.invalidData('no topic for it', { code: 'BAD' }) : undefined));
    const handle = sinkRuntime(sink, client);
    await handle.runtime.start();
    const sent = texts('m', 40);
    await sendAll(producer, sent);
    await waitForCounts(handle.metrics, topic, (c) => c.processed + c.dropped === 40 && c.inFlight === 0);
    expect(firstSeen(sink.wire)).toEqual(sent.filter((t) => t !== 'm-7'));
    await handle.runtime.stop(5_000);
    await expectAccounting(handle.metrics, topic, { processed: 39, dropped: 1, inFlight: 0 });
    expect(await redeliveredAfterRestart(client, producer, configs)).toEqual([]);
  });

  it('invalid data, then a retryable failure behind it in the same pipeline: the bad record is dropped, the refused one and all after it are written again in order', async () => {
    const { client, topic, configs, producer } = await sinkSetup();
    // m-7 (invalid), m-8 (written), m-9 (refused once) and m-10, m-11 (written) are all in write when m-7 reaches the head.
    let refused = false;
    const { sink, wire } = gatedPipelinedSink(configs, 'm-11', (record) => {
      if (record.text() === 'm-7') return ConnectorError.invalidData('no topic for it', { code: 'BAD' });
      if (record.text() !== 'm-9' || refused) return undefined;
      refused = true;
      return ConnectorError.retryable('refused for now', { code: 'BUSY' });
    });
    const handle = sinkRuntime(sink, client);
    await handle.runtime.start();
    const sent = texts('m', 20);
    await sendAll(producer, sent);
    await waitForCounts(handle.metrics, topic, (c) => c.processed + c.dropped === 20 && c.inFlight === 0);
    const copies = (text: string) => wire.filter((t) => t === text).length;
    // m-8 was written after the invalid m-7 and before the refusal: kept as it is. m-10 and m-11 were written
    // after the refused m-9, so they come again behind its retry.
    expect([copies('m-8'), copies('m-9'), copies('m-10'), copies('m-11')]).toEqual([1, 1, 2, 2]);
    expect(lastSeen(wire)).toEqual(sent.filter((t) => t !== 'm-7'));
    await handle.runtime.stop(5_000);
    await expectAccounting(handle.metrics, topic, { processed: 19, dropped: 1, inFlight: 0 });
    expect(await redeliveredAfterRestart(client, producer, configs)).toEqual([]);
  });

  it('a connector that writes the valid records of a call and reports them before failing it on an invalid one: they stay written, and neither they nor the records after them are written again', async () => {
    const { client, topic, configs, producer } = await sinkSetup();
    // As sink-mqtt does: a call with an invalid record fails after its valid ones were reported; m-7 (invalid) and
    // the records after it up to m-9 are all in write when m-7 reaches the head of the pipeline.
    const { sink, wire } = gatedPipelinedSink(configs, 'm-9', (record) => (record.text() === 'm-7' ? ConnectorError.invalidData('no topic for it', { code: 'BAD' }) : undefined));
    const handle = sinkRuntime(sink, client);
    await handle.runtime.start();
    const sent = texts('m', 20);
    await sendAll(producer, sent);
    await waitForCounts(handle.metrics, topic, (c) => c.processed + c.dropped === 20 && c.inFlight === 0);
    expect(firstSeen(wire)).toEqual(sent.filter((t) => t !== 'm-7'));
    // m-8 and m-9 went out in their own calls and were reported written: after the invalid m-7 (which never goes
    // out) they are already in order, so they are not written again.
    const copies = (text: string) => wire.filter((t) => t === text).length;
    expect([copies('m-8'), copies('m-9')]).toEqual([1, 1]);
    await handle.runtime.stop(5_000);
    await expectAccounting(handle.metrics, topic, { processed: 19, dropped: 1, inFlight: 0 });
    expect(await redeliveredAfterRestart(client, producer, configs)).toEqual([]);
  });
});
