/**
 * The conformance kit: one call in a plugin's own vitest suite runs the checks every Danube Connect plugin must
 * pass, with the plugin in a real connector child process (forked as the host forks it) against a TestBroker.
 * A separate subpath (`@danube-connect/testing/conformance`) because it needs vitest, which the TestBroker
 * alone must not (the host runs it in `dev` mode). What each case checks: sdk/README.md, "The conformance kit".
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConformanceCase, type PluginUnderTest, type Sample } from './conformance/conformance-case.js';
import type { ConnectorProcess } from './connector-process.js';
import type { ConformanceOptions } from './conformance/conformance-options.js';
import { missingRecords, violation } from './conformance/delivery-checks.js';
import { compileSchema, readManifest } from './conformance/plugin-manifest.js';

export type { ConformanceEnv, ConformanceOptions } from './conformance/conformance-options.js';

/** Danube's acknowledgements are delayed by this much (ms) where a case needs records still in flight. */
const ACK_DELAY_MS = { source: 50, sink: 20 } as const;
/** How long Danube answers UNAVAILABLE in the outage case, ms. */
const OUTAGE_MS = 2_000;
/** The back-pressure case's window: the source's `maxInFlight`, the sink's Danube window (`maxUnacked`). */
const WINDOW = { source: 8, sink: 4 } as const;
/** Slack of every case's deadline on top of its phases, ms (child processes on a loaded 2-core machine). */
const CASE_SLACK_MS = 20_000;

/**
 * Registers the conformance suite for the plugin in `options.packageDir` (a `describe` with one `it` per case,
 * each with its own deadline, so vitest's default 5 s test timeout does not apply). A failing case names the
 * broken guarantee first in its message: `[at-least-once]`, `[per-key order]`, `[ack after write]`,
 * `[stop report]`, `[back-pressure]`, `[ready]` or `[metrics]`.
 */
export function describeConnectorConformance(options: ConformanceOptions): void {
  const manifest = readManifest(options.packageDir);
  if (manifest.kind === 'source' && !options.produce) throw new Error('conformance of a source needs options.produce');
  if (manifest.kind === 'sink' && !options.written) throw new Error('conformance of a sink needs options.written');
  const plugin: PluginUnderTest = {
    manifest,
    options,
    readyTimeoutMs: options.readyTimeoutMs ?? 15_000,
    deliveryTimeoutMs: options.deliveryTimeoutMs ?? 30_000,
    stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
  };
  const kind = manifest.kind;
  const count = options.records ?? 50;
  const survivesCrash = options.survivesCrash ?? true;
  /** A case's deadline: its starts, waits for records and stops (each with its own deadline), plus slack. */
  const deadline = (starts: number, waits: number, stops: number) =>
    starts * 2 * plugin.readyTimeoutMs + waits * plugin.deliveryTimeoutMs + stops * (plugin.stopTimeoutMs + 15_000) + CASE_SLACK_MS;

  /**
   * The stop, crash and outage cases hold a sink's acks until the kit has seen a record in flight: a pipelined
   * sink drains the whole feed faster than the kit's stats arrive, so the case would otherwise strike after the
   * stream (seen in CI for the outage case). A source's records stay in flight through the ack delay alone.
   */
  const holdSinkAcks = (c: ConformanceCase): void => {
    if (kind === 'sink') c.env.broker.holdAcks();
  };
  const releaseSinkAcks = (c: ConformanceCase): void => {
    if (kind === 'sink') c.env.broker.releaseAcks();
  };
  /**
   * Waits until records are in flight (handed to the runtime, not committed) and not all of 0 … count - 1
   * arrived: the moment the stop, crash and outage cases strike.
   */
  const inFlight = (c: ConformanceCase, child: ConnectorProcess, what: string) =>
    c.watch(child, (s) => s.pong.stats.inFlight > 0 && missingRecords(count, s.deliveries).length > 0, {
      timeoutMs: plugin.deliveryTimeoutMs,
      // Not a guarantee found broken: the case could not strike, so it says so without a label.
      timedOut: (s) =>
        new Error(`${what}: the kit saw no record in flight within ${plugin.deliveryTimeoutMs} ms (${s?.deliveries.length ?? 0} of ${count} delivered, stats ${JSON.stringify(s?.pong.stats)})`),
    });

  describe(`${manifest.name} conformance (${kind})`, () => {
    it('manifest: has a valid manifest, entry and config schema whose defaults apply', async () => {
      expect(existsSync(manifest.entry), `entry ${manifest.entry} exists (is the plugin built?)`).toBe(true);
      if (!manifest.configSchema) return;
      expect(existsSync(manifest.configSchema), `config schema ${manifest.configSchema} exists`).toBe(true);
      const { schema } = compileSchema(manifest.configSchema);
      const c = await ConformanceCase.open(plugin);
      const config = await c.configFor();
      const properties = (schema.properties ?? {}) as Record<string, { default?: unknown }>;
      for (const [key, property] of Object.entries(properties)) {
        if (property.default !== undefined) expect(config, `default of "${key}" applied`).toHaveProperty(key);
      }
    }, deadline(0, 0, 0));

    it(`delivery: reports ready within ${plugin.readyTimeoutMs} ms, delivers every record in per-key order, acks only after delivery, stops with a report`, async () => {
      const c = await ConformanceCase.open(plugin);
      const child = await c.start();
      const feeding = c.feedInBackground(0, count);
      await c.expectAll(child, count, 'delivery');
      await feeding;
      const stopped = await c.stop(child);
      if (stopped.abandoned > 0) throw violation('stop report', `a stop with every record delivered abandoned ${stopped.abandoned} records`);
    }, deadline(1, 1, 1));

    it('stop in flight: a stop while records are in flight reports drained and abandoned, and after a restart nothing is lost', async () => {
      const c = await ConformanceCase.open(plugin);
      const first = await c.start();
      c.env.broker.delayAcks(ACK_DELAY_MS[kind]);
      holdSinkAcks(c);
      const feeding = c.feedInBackground(0, count);
      const atStop = await inFlight(c, first, 'stop in flight');
      // Released before the stop, whose drain waits for them; the delay still keeps records in flight meanwhile.
      releaseSinkAcks(c);
      const stopped = await c.stop(first);
      // A source that abandons nothing has delivered every record it had received before the exit. A sink may
      // deliver fewer: records still buffered were never handed to the connector, stay unacked and are redelivered
      // by the broker (its `abandoned` counts only writes cut short); the restart below proves nothing is lost.
      const delivered = await c.deliveredCount();
      if (kind === 'source' && stopped.abandoned === 0 && delivered < atStop.pong.stats.received) {
        throw violation('stop report', `the stop reported nothing abandoned, yet only ${delivered} of the ${atStop.pong.stats.received} records received before it were delivered`);
      }
      c.env.broker.delayAcks(0);
      await feeding;
      const second = await c.start();
      const more = c.feedInBackground(count, count);
      await c.expectAll(
        second,
        2 * count,
        `after a stop with ${atStop.pong.stats.inFlight} records in flight (report: drained ${stopped.drained}, abandoned ${stopped.abandoned}) and a restart`,
      );
      await more;
      await c.stop(second);
    }, deadline(2, 2, 2));

    it.skipIf(!survivesCrash)('crash: loses nothing when SIGKILLed mid-stream and started again (at-least-once: duplicates allowed)', async () => {
      const c = await ConformanceCase.open(plugin);
      const first = await c.start();
      c.env.broker.delayAcks(ACK_DELAY_MS[kind]);
      holdSinkAcks(c);
      const feeding = c.feedInBackground(0, count);
      const atKill = await inFlight(c, first, 'crash');
      await first.kill('SIGKILL');
      // Applied after the kill: acks the broker had received before the connector died.
      releaseSinkAcks(c);
      c.env.broker.delayAcks(0);
      await feeding;
      const second = await c.start();
      const more = c.feedInBackground(count, count);
      await c.expectAll(second, 2 * count, `after a SIGKILL with ${atKill.pong.stats.inFlight} records in flight and ${atKill.deliveries.length} of ${count} delivered, and a restart`);
      await more;
      await c.stop(second);
    }, deadline(2, 2, 1));

    it(`danube outage: loses nothing and keeps per-key order when Danube is unavailable for ${OUTAGE_MS} ms mid-stream`, async () => {
      const c = await ConformanceCase.open(plugin);
      const child = await c.start();
      c.env.broker.delayAcks(ACK_DELAY_MS[kind]);
      holdSinkAcks(c);
      const feeding = c.feedInBackground(0, count);
      await inFlight(c, child, 'danube outage');
      c.env.broker.unavailableFor(OUTAGE_MS);
      releaseSinkAcks(c);
      await feeding;
      c.env.broker.delayAcks(0);
      await c.expectAll(child, count, `across a ${OUTAGE_MS} ms Danube outage`);
      await c.stop(child);
    }, deadline(1, 2, 1) + OUTAGE_MS);

    it(`back-pressure: records handed to the runtime and not yet committed never exceed the window (${kind === 'source' ? `maxInFlight ${WINDOW.source}, Danube acks delayed` : `Danube window ${WINDOW.sink}`})`, async () => {
      const window = WINDOW[kind];
      const c = await ConformanceCase.open(plugin, kind === 'sink' ? window : undefined);
      const child = await c.start(kind === 'source' ? { maxInFlight: window } : { maxUnacked: window });
      const total = Math.max(count, 4 * window);
      if (kind === 'source') c.env.broker.delayAcks(ACK_DELAY_MS.source);
      const feeding = c.feedInBackground(0, total);
      // Sinks: a record counts as done once its ack returns, and the broker refills its window as soon as the
      // ack lands, so up to one more window of records may arrive before the last one is counted.
      const bound = kind === 'source' ? window : 2 * window;
      const check = ({ pong, storedBeforePing }: Sample): void => {
        const { inFlight, processed, deadLettered, dropped } = pong.stats;
        const committed = processed + deadLettered + dropped;
        // Sources: Danube's own count, taken before the ping, against what the child had committed by then.
        const handedOver = kind === 'source' ? Math.max(inFlight, storedBeforePing - committed) : inFlight;
        if (handedOver > bound) {
          throw violation(
            'back-pressure',
            `${handedOver} records were in flight and not committed, above the bound of ${bound} (the runtime counted ${inFlight}${kind === 'source' ? `; Danube held ${storedBeforePing} while ${committed} were committed` : ''})`,
          );
        }
      };
      await c.expectAll(child, total, `with a window of ${window}`, check);
      // One more look once everything arrived: the looks above are samples, and on a loaded machine one of them can
      // span the whole excess of a source that sends around the runtime; at the end it holds everything uncommitted.
      check(await c.look(child));
      await feeding;
      await c.stop(child);
    }, deadline(1, 1, 1));

    it('metrics: reports the reference metrics, labelled with its connector and real topic', async () => {
      const c = await ConformanceCase.open(plugin);
      const child = await c.start();
      const feeding = c.feedInBackground(0, 5);
      await c.expectAll(child, 5, 'metrics');
      await feeding;
      const metrics = await child.metrics();
      const names = metrics.map((m) => m.name);
      for (const name of ['danube_connector_messages_received_total', 'danube_connector_messages_processed_total', 'danube_connector_health']) {
        if (!names.includes(name)) throw violation('metrics', `metric ${name} is missing (got ${names.join(', ')})`);
      }
      const received = metrics.find((m) => m.name === 'danube_connector_messages_received_total');
      const labelled = received?.values.some((v) => v.labels.connector === c.env.connector && v.labels.topic === c.env.topic && v.value >= 5);
      if (!labelled) throw violation('metrics', `danube_connector_messages_received_total has no value >= 5 labelled connector ${c.env.connector}, topic ${c.env.topic}: ${JSON.stringify(received?.values)}`);
      const { stats } = await child.ping();
      expect(stats.received, 'received = processed + dead_lettered + dropped + in_flight').toBe(stats.processed + stats.deadLettered + stats.dropped + stats.inFlight);
      await c.stop(child);
    }, deadline(1, 1, 1));
  });
}
