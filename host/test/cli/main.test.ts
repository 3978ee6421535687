import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { tempProject } from '../temp-project.js';
import { runBuiltCli, runCli } from './run-cli.js';
import { BUILT_CLI } from './run-cli.js';

describe('danube-connect', () => {
  test('--help lists the commands; no command prints it to stderr with exit 64', async () => {
    const help = await runCli(['--help'], '/');
    expect(help.code).toBe(0);
    // Names padded to the longest (new-plugin), summaries in one column.
    expect(help.stdout).toMatch(/^Usage: danube-connect <command> \[options\]\n\nCommands:\n {2}run {9}\S.+\n {2}dev {9}\S.+\n {2}reload {6}\S.+\n {2}validate {4}\S.+\n {2}plugins {5}\S.+\n/);
    expect(help.stdout).toMatch(/\n {2}new-plugin {2}create a new source or sink plugin package/);
    const none = await runCli([], '/');
    expect(none.code).toBe(64);
    expect(none.stderr).toBe(help.stdout);
  });

  test('<command> --help prints its usage', async () => {
    const result = await runCli(['validate', '--help'], '/');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^danube-connect validate <host.toml> \[--print\]\n/);
  });

  test('--version names host, sdk and node versions', () => {
    const result = runBuiltCli(['--version'], tempProject().dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`@danube-connect/host 0.1.0 (@danube-connect/sdk 0.1.0, node ${process.version})\n`);
  });

  test('unknown commands and missing arguments exit 64', async () => {
    const unknown = await runCli(['frobnicate'], '/');
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toMatch(/^danube-connect: unknown command "frobnicate"\n/);
    const missing = await runCli(['validate'], '/');
    expect(missing.code).toBe(64);
    expect(missing.stderr).toMatch(/^danube-connect validate: validate needs the path of host.toml\n/);
  });

  test('dev without an argument runs ./host.toml, and without one there says so (exit 64)', async () => {
    const none = await runCli(['dev'], tempProject().dir);
    expect(none.code).toBe(64);
    expect(none.stderr).toMatch(/^danube-connect dev: dev needs host.toml: there is none in <dir>; give its path \(in this repository: examples\/iot\/host.toml\)\n/);
    const p = tempProject({ 'host.toml': '[[connectors]]\nname = "a"\nplugin = "@fixtures/not-there"\n' });
    const invalid = await runCli(['dev'], p.dir);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('<dir>/host.toml: 1 problem; nothing started');
  });

  test('validate prints "ok: N connectors" and exits 0', async () => {
    const p = tempProject({ 'host.toml': '[[connectors]]\nname = "a"\nplugin = "@fixtures/plain-sink"\n[[connectors]]\nname = "b"\nplugin = "@fixtures/plain-sink"\n' }, ['plain-sink']);
    const built = runBuiltCli(['validate', 'host.toml'], p.dir);
    expect(built).toEqual({ code: 0, stdout: 'ok: 2 connectors\n', stderr: '' });
  });

  test('dist/cli.js starts with #!/usr/bin/env node', () => {
    expect(readFileSync(BUILT_CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});
