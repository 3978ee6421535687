/** The devDependencies of a scaffolded plugin that are not ours, at the versions this repository pins (a test keeps them equal). */
export const TEMPLATE_DEV_DEPENDENCIES = {
  '@types/node': '20.19.43',
  // The Config type from the schema, at the type level only: never part of the built plugin.
  'json-schema-to-ts': '3.1.1',
  tsup: '8.5.1',
  typescript: '5.9.3',
  vitest: '4.1.12',
} as const;

export interface PluginPackageOptions {
  name: string;
  kind: 'source' | 'sink';
  /** The range of @danube-connect/sdk the plugin works with: its manifest's `sdk` and its peer dependency. */
  sdkRange: string;
  /** The range of @danube-connect/testing it tests with. */
  testingRange: string;
}

const DESCRIPTIONS = {
  source: 'Danube Connect source: tails a text file into Danube, one message per line',
  sink: 'Danube Connect sink: appends the messages of a Danube topic to a text file, one line each',
} as const;

/** The package.json of a new plugin: the `danube-connect` manifest, exports, files and the scripts to build, test and pack it. */
export function pluginPackageJson({ name, kind, sdkRange, testingRange }: PluginPackageOptions): Record<string, unknown> {
  return {
    name,
    version: '0.1.0',
    description: DESCRIPTIONS[kind],
    type: 'module',
    engines: { node: '>=20.0.0' },
    keywords: ['danube-connect-plugin', `danube-connect-${kind}`],
    'danube-connect': { kind, entry: './dist/index.js', configSchema: './schema.json', sdk: sdkRange },
    exports: {
      '.': { types: './dist/index.d.ts', import: './dist/index.js' },
      './schema.json': './schema.json',
      './package.json': './package.json',
    },
    files: ['dist', 'schema.json', 'README.md'],
    scripts: {
      build: 'tsup',
      typecheck: 'tsc --noEmit',
      test: 'npm run build && vitest run',
      prepack: 'npm run build',
    },
    peerDependencies: { '@danube-connect/sdk': sdkRange },
    devDependencies: { '@danube-connect/testing': testingRange, ...TEMPLATE_DEV_DEPENDENCIES },
  };
}
