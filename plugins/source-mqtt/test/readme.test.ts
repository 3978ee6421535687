import { readFileSync } from 'node:fs';
import { MQTT_ERROR_CODES, renderConfigTable } from '@danube-connect/mqtt';
import { describe, expect, it } from 'vitest';
import { DanubeTap, mqttClient, publishSequence, startDanube, startMosquitto, startSource, uniqueTopic } from './support/harness.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = (name: string) => {
  const match = new RegExp(`<!-- ${name}:start -->\\n([\\s\\S]*?)\\n<!-- ${name}:end -->`).exec(README);
  if (!match?.[1]) throw new Error(`README.md has no ${name} section`);
  return match[1];
};

/** The README's mosquitto example without the lines a test must set itself (its port, its folder). */
const exampleSettings = () =>
  section('mosquitto-example')
    .replace(/^```conf\n|\n```$/g, '')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#') && !/^(listener|persistence_location)\b/.test(line));

describe('README.md', () => {
  it('has the config table of schema.json', () => {
    const schema = JSON.parse(readFileSync(new URL('../schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    expect(section('config-table')).toBe(renderConfigTable(schema));
  });

  it('lists every error code', () => {
    for (const code of Object.keys(MQTT_ERROR_CODES)) expect(README).toContain(`| \`${code}\` |`);
  });

  it.each([
    ['the README example config', true],
    ["mosquitto's defaults (the deliberately wrong case: beyond 1000 queued it drops silently)", false],
  ])('with %s, 2,500 messages published while the connector is stopped all reach Danube: %s', async (_what, example) => {
    const [danube, mosquitto] = await Promise.all([startDanube(), startMosquitto({ bare: true, config: example ? exampleSettings() : ['persistence true'] })]);
    const topic = uniqueTopic('readme');
    const tap = await DanubeTap.open(danube, topic);
    const connector = `mqtt-readme-${Date.now()}`;
    const config = { url: mosquitto.url, routes: [{ from: 'away/#', to: topic }] };
    const first = await startSource(danube, config, { connector });
    await first.log((l) => l.msg === 'MQTT subscribed');
    await first.stop(10_000);
    const publisher = await mqttClient(mosquitto.url);
    await publishSequence(publisher, 'away/x', 0, 2_500, 1, 250);
    await mosquitto.restart(); // and a broker restart while it is away
    const second = await startSource(danube, config, { connector });
    await second.log((l) => l.msg === 'MQTT connected');
    const marker = await mqttClient(mosquitto.url);
    await marker.publishAsync('away/x', 'marker', { qos: 1 });
    await tap.until(() => tap.texts().includes('marker'), 60_000);
    await second.stop(10_000);
    expect(new Set(tap.texts().filter((t) => t !== 'marker')).size === 2_500).toBe(example);
  });
});
