// `npm run bench`: every benchmark in turn (each needs the cores to itself), results in bench-results/.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const BENCHMARKS = ['client-producer', 'consumer-ack', 'source-runtime', 'host', 'source-mqtt', 'sink-mqtt'];
for (const name of BENCHMARKS.filter((b) => only.length === 0 || only.includes(b))) {
  const result = spawnSync(process.execPath, [join(here, `${name}.js`)], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
