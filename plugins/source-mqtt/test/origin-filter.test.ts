import type { IPublishPacket } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { OriginFilter } from '../src/origin-filter.js';

const packet = (origin?: string | string[]): IPublishPacket =>
  ({ cmd: 'publish', topic: 't', payload: Buffer.alloc(0), qos: 1, dup: false, retain: false, ...(origin === undefined ? {} : { properties: { userProperties: { 'danube-origin': origin } } }) }) as IPublishPacket;

describe('OriginFilter (loop prevention)', () => {
  it('"*" skips any marked message, never an unmarked one', () => {
    const filter = new OriginFilter(['*']);
    expect(filter.skipped(packet('plant-out'))).toBe('plant-out');
    expect(filter.skipped(packet())).toBeUndefined();
  });

  it('names skip only those sinks; a repeated property counts when any value matches', () => {
    const filter = new OriginFilter(['plant-out']);
    expect(filter.skipped(packet('plant-out'))).toBe('plant-out');
    expect(filter.skipped(packet('other-sink'))).toBeUndefined();
    expect(filter.skipped(packet(['other-sink', 'plant-out']))).toBe('plant-out');
  });

  it('[] takes everything in', () => {
    expect(new OriginFilter([]).skipped(packet('plant-out'))).toBeUndefined();
  });
});
