// The conformance kit: the checks every Danube Connect plugin must pass (delivery, stop, crash, Danube outage,
// back-pressure, metrics, ack only after the write), with this plugin in a real connector child against a fresh
// TestBroker per case. It runs the built entry: `npm test` builds first.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeConnectorConformance } from '@danube-connect/testing/conformance';

const output = (workDir: string) => join(workDir, 'output.txt');

describeConnectorConformance({
  packageDir: fileURLToPath(new URL('..', import.meta.url)),
  config: (env) => ({ path: output(env.workDir), topic: env.topic }),
  // What the sink has written so far, in order: the complete lines of the file.
  written: async (env) => {
    const text = await readFile(output(env.workDir), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    return text.split('\n').slice(0, -1);
  },
});
