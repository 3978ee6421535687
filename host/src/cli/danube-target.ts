import type { DanubeClient, DanubeError } from '@danube-connect/sdk';
import type { DanubeSettings } from '@danube-connect/sdk/protocol';
import { formatProblem } from '../config/config-problem.js';
import { loadHostConfig } from '../config/load-host-config.js';
import { type CliIo, EXIT_CODES, UsageError } from './cli-command.js';

/**
 * The broker `tail` and `publish` talk to: `--service-url`, else `[danube]` of host.toml (with its TLS settings
 * and the DANUBE_* overrides), else DANUBE_SERVICE_URL. The token comes from DANUBE_TOKEN (or host.toml) and is
 * never printed. An exit code when host.toml is invalid.
 */
export function danubeTarget(options: { serviceUrl: string | undefined; config: string | undefined }, io: CliIo): DanubeSettings | number {
  const token = io.env['DANUBE_TOKEN'] || undefined;
  if (options.serviceUrl !== undefined) {
    if (options.config !== undefined) throw new UsageError('give either --service-url or host.toml, not both');
    return { serviceUrl: options.serviceUrl, ...(token !== undefined ? { token } : {}) };
  }
  if (options.config !== undefined) {
    const loaded = loadHostConfig(options.config, { env: io.env, cwd: io.cwd });
    if (!loaded.ok) {
      for (const problem of loaded.problems) io.err(formatProblem(problem));
      return EXIT_CODES.invalid;
    }
    return loaded.config.host.danube;
  }
  const serviceUrl = io.env['DANUBE_SERVICE_URL'];
  if (!serviceUrl) throw new UsageError('no broker: give --service-url <url>, a host.toml with [danube], or set DANUBE_SERVICE_URL');
  return { serviceUrl, ...(token !== undefined ? { token } : {}) };
}

/**
 * A client for one command line's work. The SDK's client is imported here, on demand: the host's `run` loads
 * only `@danube-connect/sdk/core`, and these commands should not make it bigger. Retries are bounded (30 s) so a
 * broker that is down ends the command with its error instead of a silent two-minute wait.
 */
export async function connect(settings: DanubeSettings): Promise<{ client: DanubeClient; sdk: typeof import('@danube-connect/sdk') }> {
  const sdk = await import('@danube-connect/sdk');
  let client: DanubeClient;
  try {
    client = new sdk.DanubeClient({
      serviceUrl: settings.serviceUrl,
      ...(settings.token !== undefined ? { token: settings.token } : {}),
      ...(settings.tls !== undefined ? { tls: settings.tls } : {}),
      ...(settings.requestTimeoutMs !== undefined ? { requestTimeoutMs: settings.requestTimeoutMs } : {}),
      ...(settings.namespaceAdminUrl !== undefined ? { createNamespacesVia: settings.namespaceAdminUrl } : {}),
      retry: { deadlineMs: 30_000 },
    });
  } catch (err) {
    // An unusable URL or TLS file is a bad command line (or host.toml), said as the client says it.
    throw new UsageError((err as Error).message);
  }
  return { client, sdk };
}

/** One line for a failed Danube call: the message and, for a DanubeError, its code. */
export function describeFailure(err: unknown): string {
  const code = (err as Partial<DanubeError>).code;
  return `${(err as Error).message}${typeof code === 'string' && !(err as Error).message.includes(code) ? ` (${code})` : ''}`;
}
