import { once } from 'node:events';
import { createConnectorLogger, type Logger } from '@danube-connect/sdk/core';
import { formatProblem } from '../config/config-problem.js';
import type { HostSettings } from '../config/connector-settings.js';
import { StatusServer } from '../http/status-server.js';
import { HostStatus } from './host-status.js';
import { createLogOutput } from './log-output.js';
import { Supervisor } from '../supervisor/supervisor.js';
import type { ConnectorSpec } from '../connector-spec.js';
import { validateHost, type ValidatedHost, type ValidateHostOptions } from '../validate-host.js';

export interface RunHostOptions extends ValidateHostOptions {
  /** Where problems go before the logger exists. */
  err: (text: string) => void;
  /** The process whose signals stop (SIGTERM, SIGINT) and reload (SIGHUP) the host. */
  signals?: NodeJS.EventEmitter;
  /** Called once everything listens, with the status server's address. */
  onListening?: (address: string) => void;
  /**
   * Runs once host.toml is valid, before the status server and any connector start (`danube-connect dev` starts
   * its embedded brokers here); the function it resolves with runs after every connector stopped. A rejection
   * ends the run before anything started: its message is printed and the exit code is 1.
   */
  prepare?: (host: ValidatedHost, logger: Logger) => Promise<() => Promise<void>>;
}

/**
 * The `[host]` changes of a reload: `log_level` is applied to the host's logger at once; `http` cannot move while
 * the host serves it, so it is named until the host restarts (compared with what the host was started with).
 * The other `[host]` keys reach each connector's spec (see Supervisor.replace).
 */
function hostChanges(running: HostSettings, next: HostSettings, logger: Logger): { updated: string[]; needsRestart: string[] } {
  const updated: string[] = [];
  const needsRestart: string[] = [];
  if (logger.level !== next.logLevel) {
    logger.level = next.logLevel;
    updated.push('[host] log_level');
  }
  const address = (http: HostSettings['http']) => `${http.host.includes(':') ? `[${http.host}]` : http.host}:${http.port}`;
  if (address(running.http) !== address(next.http)) needsRestart.push(`[host] http ${address(running.http)} → ${address(next.http)} takes effect when the host restarts`);
  return { updated, needsRestart };
}

/** Exit codes of `danube-connect run`. */
const RUN_EXIT_CODES = { ok: 0, unclean: 1, failure: 1, invalid: 2 } as const;

/**
 * `danube-connect run` (docs/architecture.md §5): validate everything (every problem printed, exit 2, nothing started), start
 * the status server and one supervised child per connector, reload on SIGHUP or POST /-/reload (a bad new config
 * is rejected and the running set kept), and on SIGTERM/SIGINT stop every child (drain, then SIGKILL after
 * `shutdown_timeout_ms`). Resolves with the exit code: 0 when every child stopped cleanly.
 */
export async function runHost(file: string, options: RunHostOptions): Promise<number> {
  const first = validateHost(file, options);
  if (!first.ok) {
    for (const problem of first.problems) options.err(formatProblem(problem));
    options.err(`${file}: ${first.problems.length} problem${first.problems.length === 1 ? '' : 's'}; nothing started`);
    return RUN_EXIT_CODES.invalid;
  }
  const settings = first.config.host;
  const output = await createLogOutput();
  // Every connector's secret values, scrubbed from the host's own lines (a child's error it logs may quote one).
  const secrets: string[] = [];
  const learnSecrets = (specs: readonly ConnectorSpec[]) => secrets.push(...specs.flatMap((spec) => spec.secrets).filter((s) => !secrets.includes(s)));
  learnSecrets(first.connectors);
  const logger: Logger = createConnectorLogger({ component: 'host' }, settings.logLevel, output.destination, { secrets });
  const supervisor = new Supervisor({ logger, relay: output.relay });
  const logWarnings = (warnings: ValidatedHost['warnings']) => {
    for (const warning of warnings) logger.warn({ code: warning.code }, formatProblem(warning));
  };
  logWarnings(first.warnings);
  const reload = async () => {
    const next = validateHost(file, options);
    if (!next.ok) {
      const problems = next.problems.map(formatProblem);
      logger.error({ problems }, 'reload rejected: host.toml is invalid; the running connectors are kept');
      throw new Error(problems.join('\n'));
    }
    learnSecrets(next.connectors);
    logWarnings(next.warnings);
    const { restarted, started, stopped, updated, needsRestart } = await supervisor.replace(next.connectors);
    const host = hostChanges(settings, next.config.host, logger);
    const answer = { restarted, started, stopped, updated: [...host.updated, ...updated], needsRestart: [...host.needsRestart, ...needsRestart] };
    if (answer.needsRestart.length > 0) logger.warn({ needsRestart: answer.needsRestart }, 'reload: some changes take effect only at a restart');
    return answer;
  };
  let release = async () => {};
  if (options.prepare) {
    try {
      release = await options.prepare(first, logger);
    } catch (err) {
      options.err((err as Error).message);
      await output.close();
      return RUN_EXIT_CODES.failure;
    }
  }
  let server: StatusServer;
  try {
    server = await StatusServer.start(new HostStatus(supervisor, reload, output.stats), {
      listen: `${settings.http.host.includes(':') ? `[${settings.http.host}]` : settings.http.host}:${settings.http.port}`,
      allowedHosts: settings.allowedHosts,
    });
  } catch (err) {
    options.err(`${file}: cannot listen on [host] http ${settings.http.host}:${settings.http.port}: ${(err as Error).message}`);
    await release();
    await output.close();
    return RUN_EXIT_CODES.invalid;
  }
  supervisor.start(first.connectors);
  logger.info({ http: server.address, connectors: first.connectors.map((c) => c.name) }, 'danube-connect running');
  if (settings.http.host === '0.0.0.0' || settings.http.host === '::') {
    logger.warn(
      { http: server.address, allowedHosts: settings.allowedHosts },
      'the status endpoint listens on every interface: /metrics, /healthz and /readyz answer anyone who reaches it; /connectors and POST routes only a loopback Host or one of [host] allowed_hosts',
    );
  }
  options.onListening?.(server.address);

  const signals = options.signals ?? process;
  const onHup = () => {
    reload().then(
      (result) => logger.info(result, 'reloaded on SIGHUP'),
      () => {},
    );
  };
  signals.on('SIGHUP', onHup);
  const stopSignal = await Promise.race([once(signals, 'SIGTERM').then(() => 'SIGTERM'), once(signals, 'SIGINT').then(() => 'SIGINT')]);
  signals.off('SIGHUP', onHup);
  logger.info({ signal: stopSignal }, 'stopping every connector');
  const [result] = await Promise.all([supervisor.stop(), server.close()]);
  // After the connectors drained: their last acks and PUBACKs still need the brokers `prepare` started.
  await release();
  // The children are gone: what they flooded the buffer with may still be on its way, and the last line must not be
  // dropped behind it.
  await output.room();
  logger.info({ clean: result.clean, droppedLogLines: output.stats().droppedLines }, 'danube-connect stopped');
  await output.close();
  return result.clean ? RUN_EXIT_CODES.ok : RUN_EXIT_CODES.unclean;
}
