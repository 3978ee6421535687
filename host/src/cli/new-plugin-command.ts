import { basename, resolve } from 'node:path';
import { runningSdk } from '../discovery/sdk-info.js';
import { hostPackageJson } from '../host-package.js';
import { packageNameProblems } from '../scaffold/package-name.js';
import { scaffoldPlugin, targetProblem } from '../scaffold/scaffold-plugin.js';
import { type CliCommand, EXIT_CODES, parseCommandLine, UsageError } from './cli-command.js';

const KINDS = ['source', 'sink'] as const;

const USAGE = [
  'danube-connect new-plugin <name> --kind source|sink [--dir <folder>]',
  '',
  '  Creates a plugin package that builds, passes the conformance kit and packs: package.json with the',
  '  danube-connect manifest, src/config-schema.ts (the config\'s JSON Schema, from which both the Config type and',
  '  schema.json are derived), src/index.ts (a working example: a source tailing a text file, or a sink appending',
  '  to one), test/conformance.test.ts, tsconfig.json, tsup.config.ts and a README. Then: cd <folder> &&',
  '  npm install && npm test. Guide: docs/plugin-authoring.md of the danube-connect repository.',
  '',
  '  <name>          the npm package name, e.g. @acme/danube-source-files',
  '  --kind <kind>   source (an external system into Danube) or sink (Danube into an external system); required',
  '  --dir <folder>  where to create it (default: ./<name without its scope>); must be new or empty',
].join('\n');

/** `danube-connect new-plugin`: scaffold a plugin package from the templates shipped in this package. */
export const newPluginCommand: CliCommand = {
  summary: 'create a new source or sink plugin package (builds, tests with the conformance kit, packs)',
  usage: USAGE,
  async run(args, io) {
    const { values, positional: name } = parseCommandLine(args, { kind: { type: 'string', short: 'k' }, dir: { type: 'string', short: 'd' } });
    if (name === undefined) throw new UsageError('new-plugin needs the package name, e.g. new-plugin @acme/danube-source-files --kind source');
    const problems = packageNameProblems(name);
    if (problems.length > 0) throw new UsageError(`"${name}" is not a valid npm package name: ${problems.join('; ')}`);
    const kind = values.kind;
    if (kind === undefined) throw new UsageError('new-plugin needs --kind source or --kind sink');
    if (!(KINDS as readonly string[]).includes(kind)) throw new UsageError(`--kind must be source or sink, got "${kind}"`);
    const dir = resolve(io.cwd, values.dir ?? basename(name));
    const refused = targetProblem(dir);
    if (refused) {
      io.err(`danube-connect new-plugin: ${refused}`);
      return EXIT_CODES.failure;
    }
    const sdk = runningSdk().version;
    const files = scaffoldPlugin({
      name,
      kind: kind as (typeof KINDS)[number],
      dir,
      sdkRange: `^${sdk}`,
      testingRange: hostPackageJson().peerDependencies?.['@danube-connect/testing'] ?? `^${sdk}`,
    });
    io.out(
      [
        `created ${name} (${kind}, @danube-connect/sdk ^${sdk}) in ${dir}:`,
        ...files.map((file) => `  ${file}`),
        '',
        'next:',
        `  cd ${dir}`,
        '  npm install      # the SDK, the test kit, vitest, tsup, typescript (until @danube-connect/* is on the',
        '                   # registry: npm install --no-save <packs>/danube-connect-{sdk,testing}-*.tgz, see README)',
        '  npm test         # builds (writing schema.json) and runs the conformance kit',
        '  npm pack         # the tarball to install next to danube-connect, or npm publish',
      ].join('\n'),
    );
    return EXIT_CODES.ok;
  },
};
