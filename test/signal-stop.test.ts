import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBroker } from '@danube-connect/testing';
import { expect, it, onTestFinished, vi } from 'vitest';
import { alive, connectors, runningLine, startHost, WAIT } from './host-process.js';

// Ctrl-C on the installed bin (not through npx, whose `sh -c` and signal mirroring turn any exit into 130; see
// the README): the host drains and exits 0, as on SIGTERM. A terminal signals the whole foreground process
// group, so the signal goes to the host's group here; each connector child leads a group of its own and is
// stopped by the host, not by the terminal.
const SDK_FIXTURES = fileURLToPath(new URL('../sdk/test/fixtures/plugins/', import.meta.url));

it.each(['SIGINT', 'SIGTERM'] as const)('%s to the process group of the built CLI run directly (a terminal\'s Ctrl-C, a service manager\'s stop): every connector drains, the host exits 0 and leaves no child', async (signal) => {
  const broker = await TestBroker.start();
  onTestFinished(() => broker.stop());
  const dir = mkdtempSync(join(tmpdir(), 'dc-signal-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const toml = join(dir, 'host.toml');
  writeFileSync(join(dir, 'in.txt'), 'one\ntwo\n');
  writeFileSync(
    toml,
    `[host]\nhttp = "127.0.0.1:0"\n[danube]\nservice_url = "${broker.serviceUrl}"\n` +
      `[[connectors]]\nname = "files"\nplugin = "${join(SDK_FIXTURES, 'example-file-source')}"\n[connectors.config]\npath = "${join(dir, 'in.txt')}"\ntopic = "/default/signal-${signal.toLowerCase()}"\nstate_file = "${join(dir, 'offset')}"\n`,
  );
  const host = startHost(toml, { ownGroup: true });
  const { http } = await runningLine(host);
  const child = await vi.waitFor(async () => {
    const [files] = await connectors(http);
    expect(files?.state).toBe('running');
    return files?.pid as number;
  }, WAIT);

  process.kill(-host.pid, signal);
  expect(await host.exit, host.output()).toBe(0);
  expect(host.process.signalCode).toBeNull();
  const lines = host.lines();
  expect(lines.find((l) => l.msg === 'stopping every connector')?.signal).toBe(signal);
  expect(lines.find((l) => l.msg === 'danube-connect stopped')?.clean).toBe(true);
  expect(alive(child)).toBe(false);
});
