import { maskSecrets, scrubSecretValues } from '@danube-connect/sdk/core';
import type { ChildMetrics, ConnectorView, StatusSource } from '../http/status-source.js';
import type { ConnectorAction } from '../supervisor/connector-state.js';
import type { Supervisor } from '../supervisor/supervisor.js';

/** The HTTP server's view of a running host: the supervisor's snapshots, secrets masked, reload and control. */
export class HostStatus implements StatusSource {
  constructor(
    private readonly supervisor: Supervisor,
    readonly reload: StatusSource['reload'],
    readonly logOutput: NonNullable<StatusSource['logOutput']>,
    private readonly clock: () => number = Date.now,
  ) {}

  connectors(): ConnectorView[] {
    const now = this.clock();
    return this.supervisor.connectors().map((snapshot) => {
      const spec = this.supervisor.spec(snapshot.name);
      const view: ConnectorView = {
        name: snapshot.name,
        plugin: snapshot.plugin.name,
        version: snapshot.plugin.version,
        state: snapshot.state,
        restarts: snapshot.restarts,
        truncatedLines: snapshot.truncatedLines,
        config: maskSecrets(spec?.config ?? {}, spec?.plugin.configSchema),
      };
      if (snapshot.detail !== undefined) view.detail = snapshot.detail;
      if (snapshot.pid !== undefined) view.pid = snapshot.pid;
      if (snapshot.readyAt !== undefined) view.uptimeMs = now - snapshot.readyAt;
      if (snapshot.lastPong) view.stats = { ...snapshot.lastPong.stats };
      const exit = snapshot.lastExit;
      if (exit) {
        view.lastError = { message: exit.message, exitCode: exit.code, signal: exit.signal, at: new Date(exit.at).toISOString() };
        if (exit.errorCode !== undefined) view.lastError.code = exit.errorCode;
      }
      return view;
    });
  }

  async control(name: string, action: ConnectorAction): Promise<ConnectorView | undefined> {
    const snapshot = await this.supervisor.control(name, action);
    return snapshot && this.connectors().find((view) => view.name === name);
  }

  /** Every answer leaves with the secret values of every connector replaced (a crash report may quote one). */
  scrub(text: string): string {
    const secrets = this.supervisor.connectors().flatMap((snapshot) => this.supervisor.spec(snapshot.name)?.secrets ?? []);
    return scrubSecretValues(text, secrets);
  }

  async childMetrics(timeoutMs: number): Promise<{ metrics: ChildMetrics[]; missing: string[] }> {
    const collected = await this.supervisor.metrics(timeoutMs);
    return { metrics: collected.connectors.map((c) => c.metrics), missing: collected.skipped };
  }
}
