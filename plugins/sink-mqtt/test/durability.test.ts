// Nothing is lost when the MQTT broker goes away mid-stream or the sink's process is SIGKILLed: every Danube
// message reaches an MQTT subscriber at least once. Each check also runs against a deliberately wrong setup
// that must lose messages, so the check is shown to fail when the guarantee is broken.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ACKS_BEFORE_PUBLISH, danubeProducer, MqttTap, sendSequence, startDanube, startMosquitto, startSink, uniqueTopic, untilStats } from './support/harness.js';

/** Numbers from..from+count-1 the tap never got. */
const missing = (tap: MqttTap, from: number, count: number) => {
  const seen = new Set(tap.texts().map(Number));
  return Array.from({ length: count }, (_, i) => from + i).filter((n) => !seen.has(n));
};

/** A subscriber whose session the broker keeps across its restart, so what arrives while it reconnects waits for it. */
const persistentTap = (url: string, filter: string) => MqttTap.open(url, filter, { qos: 1, clean: false, clientId: `tap-${randomBytes(4).toString('hex')}`, properties: { sessionExpiryInterval: 3600 } });

describe('durability', () => {
  for (const [name, entry, keeps] of [
    ['the sink', undefined, true],
    ['a deliberately wrong sink that acks before the publish', ACKS_BEFORE_PUBLISH, false],
  ] as const) {
    it(`${name}: mosquitto stopped mid-stream and started again, every message arrives: ${keeps}`, async () => {
      const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
      const topic = uniqueTopic();
      const producer = await danubeProducer(danube, topic);
      const tap = await persistentTap(mosquitto.url, 'dur/#');
      const child = await startSink(danube, { url: mosquitto.url, reconnect_period_ms: 100, reconnect_max_period_ms: 500, routes: [{ from: topic, to: 'dur/{key}' }] }, { ...(entry ? { entry } : {}), runtime: { retryInitialDelayMs: 50, retryMaxDelayMs: 500 } });
      await sendSequence(producer, 0, 200);
      await tap.until(() => tap.packets.length >= 50, 30_000, 'the first 50');
      await mosquitto.stop(); // mid-stream: the rest is on its way
      const before = (await child.ping()).stats;
      await sendSequence(producer, 200, 100); // written while the broker is away
      // The away phase did something: the sink retried (it holds the messages) or the wrong one acked them.
      await untilStats(child, (s) => (keeps ? s.retried > before.retried : s.processed >= 300), 30_000, 'the sink handling messages while the broker is away');
      if (keeps) {
        // Health says why: the MQTT connection is down (the host shows the connector degraded with this detail).
        const deadline = Date.now() + 30_000;
        let pong = await child.ping();
        while (!(pong.state === 'degraded' && /MQTT/.test(pong.detail ?? '')) && Date.now() < deadline) pong = await child.ping();
        expect(`${pong.state}: ${pong.detail}`).toMatch(/^degraded: .*MQTT broker not connected/);
      }
      await mosquitto.restart(); // already stopped: starts it on the same port and folder
      // The markers go out only once the sink is connected again, so even the wrong sink publishes them.
      await child.log((l) => l.msg === 'MQTT connected' && l.epoch === 2, 30_000);
      await sendSequence(producer, 300, 20);
      // Per partition in order: once 300..319 arrived, everything before them was published or never will be.
      await tap.untilSequence(300, 20, 60_000);
      expect(missing(tap, 0, 300).length === 0, `missing: ${missing(tap, 0, 300).slice(0, 20).join(', ')}`).toBe(keeps);
    });
  }

  for (const [name, sameSubscription, keeps] of [
    ['restarted on its derived subscription', true, true],
    ['restarted on another subscription (deliberately wrong: a new subscription starts at the end)', false, false],
  ] as const) {
    it(`SIGKILL of the sink mid-stream, ${name}: every message arrives: ${keeps}`, async () => {
      const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto()]);
      const topic = uniqueTopic();
      const producer = await danubeProducer(danube, topic, 2);
      const tap = await persistentTap(mosquitto.url, 'kill/#');
      const connector = `kill-${randomBytes(3).toString('hex')}`;
      const config = { url: mosquitto.url, routes: [{ from: topic, to: 'kill/{key}' }] };
      const first = await startSink(danube, config, { connector });
      await sendSequence(producer, 0, 40);
      await tap.until(() => tap.packets.length >= 40, 30_000, 'the first 40');
      // Killed with messages certainly in its hands: mosquitto frozen, no PUBACK comes, so the sink holds what it
      // took unacknowledged (Danube's window of 10 per partition) and the rest waits in Danube. Left to race the
      // producer, a sink that had published everything before the kill let the wrong case lose nothing.
      mosquitto.pause();
      await sendSequence(producer, 40, 360);
      await untilStats(first, (s) => s.inFlight > 0, 30_000, 'the sink holding unacknowledged messages');
      await first.kill('SIGKILL');
      mosquitto.resume();
      const restarted = sameSubscription ? config : { ...config, routes: [{ ...config.routes[0], subscription: 'another' }] };
      await startSink(danube, restarted, { connector });
      await sendSequence(producer, 400, 20);
      await tap.untilSequence(400, 20, 60_000);
      expect(missing(tap, 0, 400).length === 0, `missing: ${missing(tap, 0, 400).length}`).toBe(keeps);
    });
  }
});
