import type { ConsumerConfig } from '../connector.js';

/**
 * The consumer name of each config: `consumerName` when given, else the connector name with every character
 * outside [A-Za-z0-9_-] replaced by '-'. Derived names are stable across restarts, so the broker reattaches
 * the same consumer and hands back its unacked messages (docs/danube-protocol.md §9.1). Two configs reading the same topic
 * and subscription would take the consumer over from each other, so the later one gets `-<index>` appended.
 */
export function consumerNames(connector: string, configs: readonly ConsumerConfig[]): string[] {
  const base = connector.replace(/[^A-Za-z0-9_-]/g, '-') || 'sink';
  const taken = new Set<string>();
  const key = (config: ConsumerConfig, name: string) => `${config.topic}\u0000${config.subscription}\u0000${name}`;
  for (const config of configs) if (config.consumerName !== undefined) taken.add(key(config, config.consumerName));
  return configs.map((config, index) => {
    if (config.consumerName !== undefined) return config.consumerName;
    const name = taken.has(key(config, base)) ? `${base}-${index}` : base;
    taken.add(key(config, name));
    return name;
  });
}
