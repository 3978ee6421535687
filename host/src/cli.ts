#!/usr/bin/env node
// The danube-connect executable (dist/cli.js; tsup adds the #! line). Library modules never write to the
// console; this entry owns stdout, stderr and the exit code.
import { main } from './cli/main.js';

const io = {
  out: (text: string) => process.stdout.write(`${text}\n`),
  err: (text: string) => process.stderr.write(`${text}\n`),
  env: process.env,
  cwd: process.cwd(),
};

main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`danube-connect: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
