// The conformance kit: the checks every Danube Connect plugin must pass (delivery, stop, crash, Danube outage,
// back-pressure, metrics), with this plugin in a real connector child against a fresh TestBroker per case.
// It runs the built entry: `npm test` builds first.
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeConnectorConformance } from '@danube-connect/testing/conformance';

const input = (workDir: string) => join(workDir, 'input.txt');

describeConnectorConformance({
  packageDir: fileURLToPath(new URL('..', import.meta.url)),
  config: (env) => ({ path: input(env.workDir), topic: env.topic, state_file: join(env.workDir, 'offset') }),
  // Records from … from + count - 1 appear upstream in order, their payloads the decimal numbers.
  produce: (env, from, count) => appendFile(input(env.workDir), Array.from({ length: count }, (_, i) => `${from + i}\n`).join('')),
});
