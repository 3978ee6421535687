import { formatProblem } from '../config/config-problem.js';
import { loadHostConfig } from '../config/load-host-config.js';
import { reachableAddress } from '../http/reachable-address.js';
import { type CliIo, EXIT_CODES, UsageError } from './cli-command.js';

/** Default deadline of one control request, ms: a reload or restart drains connectors, which takes a while. */
export const CONTROL_TIMEOUT_MS = 30_000;

/** The options every control command (reload, restart, pause, resume) takes. */
export const CONTROL_OPTIONS = { http: { type: 'string' }, 'timeout-ms': { type: 'string' } } as const;

/** `--timeout-ms`: a positive integer of milliseconds, default CONTROL_TIMEOUT_MS. */
export function controlTimeoutMs(value: string | undefined): number {
  if (value === undefined) return CONTROL_TIMEOUT_MS;
  const ms = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(ms) || ms <= 0) throw new UsageError(`--timeout-ms must be a positive integer (milliseconds), got "${value}"`);
  return ms;
}

/**
 * The running host's address: --http, or [host] http of host.toml (a wildcard bind is reached over loopback,
 * which the control guard accepts); an exit code when host.toml is invalid.
 */
export function hostAddress(file: string | undefined, http: string | undefined, io: CliIo, missing: string): string | number {
  if (http !== undefined) {
    if (file !== undefined) throw new UsageError('give either <host.toml> or --http, not both');
    return http;
  }
  if (file === undefined) throw new UsageError(missing);
  const loaded = loadHostConfig(file, { env: io.env, cwd: io.cwd });
  if (!loaded.ok) {
    for (const problem of loaded.problems) io.err(formatProblem(problem));
    return EXIT_CODES.invalid;
  }
  return reachableAddress(loaded.config.host.http);
}

export interface ControlAnswer {
  status: number;
  /** The content type, `no content type` when absent. */
  type: string;
  text: string;
}

/**
 * POSTs `{}` as application/json (the control guard refuses the content types a browser form could send) and
 * reads the whole answer within `timeoutMs`; a host that accepts and never answers must not hang the CLI.
 * Resolves with the answer, or with the message of why there is none.
 */
export async function postControl(address: string, path: string, timeoutMs: number): Promise<ControlAnswer | { error: string }> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(`http://${address}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', signal });
    return { status: response.status, type: response.headers.get('content-type') ?? 'no content type', text: await response.text() };
  } catch (err) {
    if (signal.aborted) return { error: `the danube-connect host on ${address} did not answer within ${timeoutMs} ms (--timeout-ms)` };
    return { error: `no danube-connect host answers on ${address}: ${(err as Error).message}` };
  }
}
