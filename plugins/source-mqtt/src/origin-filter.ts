import { ORIGIN_PROPERTY } from '@danube-connect/mqtt';
import type { IPublishPacket } from 'mqtt';

/**
 * Recognises what a Danube sink published (sink-mqtt's `danube-origin` user property, MQTT 5) so that a bridge
 * whose sink writes the topics this source reads does not feed them back into Danube (a loop). `ignore` holds the
 * origins to skip: connector names, or `*` for any.
 */
export class OriginFilter {
  private readonly any: boolean;
  private readonly names: ReadonlySet<string>;

  constructor(ignore: readonly string[]) {
    this.any = ignore.includes('*');
    this.names = new Set(ignore);
  }

  /** The packet's origin when it is to be skipped, else undefined. */
  skipped(packet: IPublishPacket): string | undefined {
    if (!this.any && this.names.size === 0) return undefined;
    const value = packet.properties?.userProperties?.[ORIGIN_PROPERTY];
    if (value === undefined) return undefined;
    // A user property may repeat (MQTT 5 §3.3.2.3.7); MQTT.js gives an array then.
    for (const origin of Array.isArray(value) ? value : [value]) if (this.any || this.names.has(origin)) return origin;
    return undefined;
  }
}
