import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';
import { describeConnectorConformance } from '../../src/testing/conformance.js';

// The SDK's two example plugins pass the kit that plugin authors run (the child runs dist/: `npm test` builds).
const plugin = (name: string) => fileURLToPath(new URL(`../fixtures/plugins/${name}`, import.meta.url));
const lines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : []);

describe('conformance kit', () => {
  describeConnectorConformance({
    packageDir: plugin('example-file-source'),
    config: (env) => ({ path: join(env.workDir, 'input.txt'), topic: env.topic, state_file: join(env.workDir, 'offset') }),
    produce: async (env, from, count) => {
      appendFileSync(join(env.workDir, 'input.txt'), Array.from({ length: count }, (_, i) => `${from + i}\n`).join(''));
    },
    // It commits its file offset only after Danube acknowledged: a killed process resumes where it was.
    survivesCrash: true,
  });

  describeConnectorConformance({
    packageDir: plugin('example-file-sink'),
    config: (env) => ({ path: join(env.workDir, 'output.txt'), topic: env.topic }),
    written: async (env) => lines(join(env.workDir, 'output.txt')),
  });
});
