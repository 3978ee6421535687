import { maskSecrets, scrubSecretValues } from '@danube-connect/sdk/core';
import { formatProblem } from '../config/config-problem.js';
import { validateHost, type ValidatedHost } from '../validate-host.js';
import { type CliCommand, EXIT_CODES, parseCommandLine, UsageError } from './cli-command.js';

/** The effective config (defaults applied, plugins resolved) as JSON with every secret masked: by name, by the plugin's schema, and by value. */
function printableConfig(validated: ValidatedHost): string {
  const { toml } = validated.config;
  const printable = {
    ...maskSecrets({ ...toml, connectors: undefined }),
    connectors: toml.connectors.map((connector, index) => {
      const spec = validated.connectors[index];
      // The plugin's schema decides its config (x-secret: false keeps a field), the name rule the rest.
      const config = maskSecrets(spec?.config ?? connector.config, spec?.plugin.configSchema);
      return { ...maskSecrets({ ...connector, config: undefined }), plugin: spec ? `${spec.plugin.name}@${spec.plugin.version}` : connector.plugin, config };
    }),
  };
  return scrubSecretValues(JSON.stringify(printable, null, 2), validated.connectors.flatMap((spec) => spec.secrets));
}

export const validateCommand: CliCommand = {
  summary: 'check host.toml, its plugins and every connector config; exit 0 (warnings printed), or 2 with every problem',
  usage: [
    'danube-connect validate <host.toml> [--print]',
    '',
    '  Checks host.toml against the host schema, resolves each connector\'s plugin (from host.toml\'s folder',
    '  upwards, then the host\'s installation), checks its manifest and SDK range, and validates each connector',
    '  config against its plugin\'s schema. Prints "ok: N connectors" (exit 0) or every problem (exit 2).',
    '  Warnings (a connector publishing to a broker what another one subscribes to there) go to stderr;',
    '  they do not change the exit code.',
    '',
    '  --print   also print the effective config (defaults applied, secrets masked) as JSON',
  ].join('\n'),
  async run(args, io) {
    const { values, positional: file } = parseCommandLine(args, { print: { type: 'boolean' } });
    if (file === undefined) throw new UsageError('validate needs the path of host.toml');
    const result = validateHost(file, { env: io.env, cwd: io.cwd, ...(io.hostDir === undefined ? {} : { hostDir: io.hostDir }) });
    if (!result.ok) {
      for (const problem of result.problems) io.err(formatProblem(problem));
      io.err(`${file}: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}`);
      return EXIT_CODES.invalid;
    }
    for (const warning of result.warnings) io.err(`warning: ${formatProblem(warning)}`);
    if (values.print) io.out(printableConfig(result));
    const count = result.connectors.length;
    const warned = result.warnings.length === 0 ? '' : `, ${result.warnings.length} warning${result.warnings.length === 1 ? '' : 's'}`;
    io.out(`ok: ${count} connector${count === 1 ? '' : 's'}${warned}`);
    return EXIT_CODES.ok;
  },
};
