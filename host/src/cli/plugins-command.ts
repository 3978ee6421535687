import { dirname, resolve } from 'node:path';
import { checkHostConfig } from '../config/load-host-config.js';
import { readPlugin } from '../discovery/read-plugin.js';
import { runningSdk, type SdkInfo } from '../discovery/sdk-info.js';
import { scanPlugins, type FoundPlugin } from '../discovery/scan-plugins.js';
import { findPackageDir, isPathRequest, type SearchOptions } from '../discovery/search-paths.js';
import { hostPackageRoot } from '../host-package.js';
import { type CliCommand, type CliIo, EXIT_CODES, parseCommandLine, UsageError } from './cli-command.js';

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  '));
}

function compatible(plugin: FoundPlugin): string {
  if (plugin.shadowed) return 'shadowed';
  if (plugin.issues.length === 0) return 'yes';
  return plugin.sdkCompatible === false ? 'no (sdk)' : 'no';
}

/** The plugins host.toml names as folder paths (no node_modules scan finds those), not listed yet. */
function folderPlugins(file: string, io: CliIo, search: SearchOptions, sdk: SdkInfo, listed: readonly FoundPlugin[]): FoundPlugin[] {
  const { doc } = checkHostConfig(file, { env: io.env, cwd: io.cwd });
  const connectors = Array.isArray(doc?.['connectors']) ? (doc['connectors'] as unknown[]) : [];
  const seen = new Set(listed.map((plugin) => plugin.dir));
  const found: FoundPlugin[] = [];
  for (const connector of connectors) {
    const request = (connector as Record<string, unknown> | null)?.['plugin'];
    if (typeof request !== 'string' || !isPathRequest(request)) continue;
    const dir = findPackageDir(request, search);
    if (dir === undefined || seen.has(dir)) continue;
    seen.add(dir);
    found.push({ ...readPlugin(dir, sdk), shadowed: false });
  }
  return found;
}

export const pluginsCommand: CliCommand = {
  summary: 'list the installed plugins the host finds, with their SDK range and whether they are usable',
  usage: [
    'danube-connect plugins [<host.toml> | --dir <folder>] [--json]',
    '',
    '  Lists every plugin package (a "danube-connect" manifest) in the node_modules folders the host searches:',
    '  from host.toml\'s folder (or --dir, or the current folder) upwards, then the host\'s own installation,',
    '  and the plugins host.toml gives as folder paths.',
    '  Each is checked as validate would: manifest, entry file, SDK range, config schema.',
    '',
    '  --dir <folder>  search from this folder',
    '  --json          print JSON instead of a table',
  ].join('\n'),
  async run(args, io) {
    const { values, positional: file } = parseCommandLine(args, { dir: { type: 'string' }, json: { type: 'boolean' } });
    if (file !== undefined && values.dir !== undefined) throw new UsageError('give either <host.toml> or --dir, not both');
    const fromDir = file !== undefined ? dirname(resolve(io.cwd, file)) : resolve(io.cwd, values.dir ?? '.');
    const sdk = runningSdk();
    const search = { fromDir, hostDir: io.hostDir ?? hostPackageRoot() };
    const plugins = scanPlugins(search, sdk);
    if (file !== undefined) plugins.push(...folderPlugins(file, io, search, sdk, plugins));
    if (values.json) {
      const rows = plugins.map(({ validateConfig: _compiled, plugin: _plugin, ...rest }) => ({ ...rest, compatible: rest.issues.length === 0 && !rest.shadowed }));
      io.out(JSON.stringify({ sdk: sdk.version, plugins: rows }, null, 2));
      return EXIT_CODES.ok;
    }
    if (plugins.length === 0) {
      io.out(`no danube-connect plugins found from ${fromDir} upwards nor in the host's installation`);
      return EXIT_CODES.ok;
    }
    const rows = [['NAME', 'VERSION', 'KIND', 'SDK', 'COMPATIBLE', 'PATH']];
    for (const plugin of plugins) {
      rows.push([plugin.name ?? '?', plugin.version ?? '?', plugin.kind ?? '?', plugin.sdkRange ?? '?', compatible(plugin), plugin.dir]);
    }
    io.out(table(rows).join('\n'));
    const issues = plugins.flatMap((plugin) => plugin.issues.map((issue) => `  ${issue.message}`));
    if (issues.length > 0) io.out(['', `problems (this host runs @danube-connect/sdk@${sdk.version}):`, ...issues].join('\n'));
    return EXIT_CODES.ok;
  },
};
