import type { ConnectorContext, SinkConnector, SourceConnector } from '../connector.js';

/**
 * Brand of plugin definitions. A global-registry symbol, so a plugin built against another copy of the SDK
 * is still recognised by the host's bootstrap (never `instanceof`, docs/architecture.md §2).
 */
export const PLUGIN_BRAND: unique symbol = Symbol.for('danube-connect.plugin') as never;

/** Version of the definition shape; bumped only on incompatible changes. */
export const PLUGIN_API_VERSION = 1;

export interface SourcePluginDefinition<Config = Record<string, unknown>> {
  kind: 'source';
  /** Builds the connector from its validated config (defaults applied). May be async; throwing fails the start. */
  create(config: Config, context: ConnectorContext): SourceConnector | Promise<SourceConnector>;
}

export interface SinkPluginDefinition<Config = Record<string, unknown>> {
  kind: 'sink';
  create(config: Config, context: ConnectorContext): SinkConnector | Promise<SinkConnector>;
}

export type PluginDefinition<Config = Record<string, unknown>> = SourcePluginDefinition<Config> | SinkPluginDefinition<Config>;

export type DanubeConnectPlugin<Config = Record<string, unknown>> = PluginDefinition<Config> & {
  readonly [PLUGIN_BRAND]: typeof PLUGIN_API_VERSION;
};

/**
 * Declares a plugin; its result is the default export of the plugin's entry module:
 *
 * ```ts
 * export default definePlugin({ kind: 'source', create: (config, ctx) => new MySource(config, ctx) });
 * ```
 */
export function definePlugin<Config = Record<string, unknown>>(definition: SourcePluginDefinition<Config>): DanubeConnectPlugin<Config>;
export function definePlugin<Config = Record<string, unknown>>(definition: SinkPluginDefinition<Config>): DanubeConnectPlugin<Config>;
export function definePlugin<Config>(definition: PluginDefinition<Config>): DanubeConnectPlugin<Config> {
  if (definition?.kind !== 'source' && definition?.kind !== 'sink') {
    throw new TypeError(`definePlugin: kind must be "source" or "sink", got ${JSON.stringify((definition as { kind?: unknown })?.kind)}`);
  }
  if (typeof definition.create !== 'function') throw new TypeError('definePlugin: create must be a function');
  return Object.freeze({ ...definition, [PLUGIN_BRAND]: PLUGIN_API_VERSION }) as DanubeConnectPlugin<Config>;
}

/** True for a value made by any copy of `definePlugin` with a compatible API version. */
export function isPlugin(value: unknown): value is DanubeConnectPlugin<unknown> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PLUGIN_BRAND] === PLUGIN_API_VERSION;
}
