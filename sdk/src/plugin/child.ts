/**
 * The connector child's entry: the module the host forks (`child_process.fork(<sdk>/dist/plugin/child.js,
 * { serialization: 'json' })`). It runs one plugin; see ChildSession for the protocol it speaks.
 */
import { processChannel } from './child-channel.js';
import { ChildSession } from './child-session.js';
import { CHILD_EXIT_CODES } from './protocol.js';
import { sdkVersion } from './sdk-version.js';

function main(): void {
  if (typeof process.send !== 'function') {
    process.stderr.write(
      'danube-connect connector child: no IPC channel. This module is forked by the danube-connect host ' +
        '(child_process.fork with an IPC channel) and cannot run on its own; use `danube-connect run host.toml`.\n',
    );
    process.exit(CHILD_EXIT_CODES.noChannel);
  }
  const session = new ChildSession({
    channel: processChannel(),
    exit: (code) => process.exit(code),
    sdkVersion: sdkVersion(),
    pid: process.pid,
    stderr: process.stderr,
  });
  process.on('uncaughtException', (err) => session.uncaught(err, 'uncaughtException'));
  process.on('unhandledRejection', (reason) => session.uncaught(reason, 'unhandledRejection'));
}

main();
