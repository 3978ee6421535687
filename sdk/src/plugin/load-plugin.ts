import { pathToFileURL } from 'node:url';
import { isPlugin, PLUGIN_API_VERSION, PLUGIN_BRAND, type DanubeConnectPlugin } from './define-plugin.js';
import { describeError, StartFailure } from './start-failure.js';

export type PluginKind = 'source' | 'sink';

/** What `default` holds when it is not a plugin, for the error message. */
function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined (no default export)';
  if (value === null) return 'null';
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}; call definePlugin({ kind, create }) and export its result`;
  if (typeof value !== 'object') return `a ${typeof value}`;
  if (typeof (value as { then?: unknown }).then === 'function') {
    return 'a Promise; export the definePlugin({ kind, create }) value itself, not a Promise of it (await inside create instead)';
  }
  const keys = Object.keys(value);
  return `an object without the definePlugin brand (keys: ${keys.length > 0 ? keys.join(', ') : 'none'})`;
}

function brandOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<symbol, unknown>)[PLUGIN_BRAND] : undefined;
}

/**
 * Imports a plugin's entry module (absolute path) and returns its definition. The default export is unwrapped
 * at most twice (`module.default.default` is what a CommonJS or double-transpiled build yields), and the plugin
 * is recognised by the `Symbol.for` brand of `definePlugin`, so a plugin built against another SDK copy passes.
 * Throws a StartFailure: `entry_import_failed`, `wrong_default_export`, `incompatible_plugin` (other plugin API
 * version) or `kind_mismatch` (when `expectedKind` is given and differs).
 */
export async function loadPlugin(entry: string, expectedKind?: PluginKind): Promise<DanubeConnectPlugin<Record<string, unknown>>> {
  let namespace: unknown;
  try {
    namespace = await import(pathToFileURL(entry).href);
  } catch (err) {
    throw new StartFailure('entry_import_failed', `cannot import the entry ${entry}: ${describeError(err)}`, { cause: err });
  }
  let candidate = (namespace as { default?: unknown }).default;
  if (brandOf(candidate) === undefined && typeof candidate === 'object' && candidate !== null && 'default' in candidate) {
    candidate = (candidate as { default?: unknown }).default;
  }
  if (!isPlugin(candidate)) {
    const brand = brandOf(candidate);
    if (brand !== undefined) {
      throw new StartFailure(
        'incompatible_plugin',
        `the entry ${entry} was built for plugin API version ${String(brand)}; this SDK supports version ${PLUGIN_API_VERSION}`,
      );
    }
    throw new StartFailure('wrong_default_export', `the default export of ${entry} is not a definePlugin(...) value: got ${describeValue(candidate)}`);
  }
  const plugin = candidate as DanubeConnectPlugin<Record<string, unknown>>;
  if (expectedKind !== undefined && plugin.kind !== expectedKind) {
    throw new StartFailure('kind_mismatch', `the manifest declares kind "${expectedKind}" but the entry ${entry} exports a "${String(plugin.kind)}" plugin`);
  }
  return plugin;
}
