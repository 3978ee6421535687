import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { FIXTURE_PLUGINS } from '../temp-project.js';

export const BUILT_CLI = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Normalises machine-specific paths in CLI output for exact assertions. */
function normalise(text: string, dir: string): string {
  return text.split(FIXTURE_PLUGINS).join('<fixtures>').split(dir).join('<dir>');
}

/**
 * Runs the CLI in this process (src/), with `cwd` and `env` injected. The host's installation is `hostDir`
 * (default: a folder without plugins), so plugins installed in the workspace do not leak into the results.
 */
export async function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, hostDir = '/nonexistent/host'): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (t) => (stdout += `${t}\n`), err: (t) => (stderr += `${t}\n`), env, cwd, hostDir });
  return { code, stdout: normalise(stdout, cwd), stderr: normalise(stderr, cwd) };
}

/** Runs the built dist/cli.js as a child process. */
export function runBuiltCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): CliRun {
  const child = spawnSync(process.execPath, [BUILT_CLI, ...args], { cwd, env: { PATH: process.env['PATH'], ...env }, encoding: 'utf8' });
  return { code: child.status ?? -1, stdout: normalise(child.stdout, cwd), stderr: normalise(child.stderr, cwd) };
}
