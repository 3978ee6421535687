import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry } from 'prom-client';
import { isControlRequest, refuseControlRequest } from './control-guard.js';
import { HostMetrics } from './host-metrics.js';
import type { ConnectorAction } from '../supervisor/connector-state.js';
import { READY_STATES, type StatusSource } from './status-source.js';
import { STATUS_PAGE } from './status-page.js';

export interface StatusServerOptions {
  /** `host:port`; default `127.0.0.1:9464`. Port 0 picks a free one. */
  listen: string;
  /** How long a scrape waits for each child's metrics, ms. Default 2000. */
  childMetricsTimeoutMs?: number;
  /** `[host] allowed_hosts`: Host names besides loopback and the bound address that may use the control endpoint. */
  allowedHosts?: readonly string[];
}

/** Splits `host:port` (IPv6 in brackets). */
export function parseListenAddress(address: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address);
  const port = Number(match?.[3]);
  if (!match || !(port >= 0 && port <= 65_535)) throw new Error(`"${address}" is not host:port`);
  return { host: (match[1] ?? match[2]) as string, port };
}

/** `POST /connectors/<name>/<action>`: operating one connector. */
const CONTROL_ROUTE = /^\/connectors\/([A-Za-z0-9_-]+)\/(restart|pause|resume)$/;

/**
 * The host's HTTP endpoints (docs/architecture.md §5.11): `/metrics` (the host's metrics and every child's, pulled on each scrape
 * and merged by prom-client's AggregatorRegistry into one valid exposition: text expositions are never
 * concatenated), `/healthz` (the host is alive), `/readyz` (every connector ready, with per-connector detail),
 * `/connectors` (JSON, secrets masked by the source), `/` (the live status page, which reads /connectors), `POST /-/reload` and `POST /connectors/<name>/restart|pause|resume`.
 * Loopback by default; mutations and /connectors* pass the control guard (refuseControlRequest) whatever the route.
 */
export class StatusServer {
  private readonly server: Server;
  private readonly hostMetrics = new HostMetrics();
  private readonly childMetricsTimeoutMs: number;
  private readonly allowedHosts: readonly string[];

  private constructor(
    private readonly source: StatusSource,
    options: StatusServerOptions,
  ) {
    this.childMetricsTimeoutMs = options.childMetricsTimeoutMs ?? 2_000;
    this.allowedHosts = options.allowedHosts ?? [];
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.send(res, 500, `internal error: ${(err as Error).message}\n`, 'text/plain; charset=utf-8');
        else res.destroy();
      });
    });
  }

  static async start(source: StatusSource, options: StatusServerOptions): Promise<StatusServer> {
    const server = new StatusServer(source, options);
    const { host, port } = parseListenAddress(options.listen);
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.server.listen(port, host, () => {
        server.server.off('error', reject);
        resolve();
      });
    });
    return server;
  }

  /** The bound address, e.g. `127.0.0.1:9464`. */
  get address(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  private send(res: ServerResponse, status: number, body: string, contentType: string): void {
    res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
    res.end(this.source.scrub(body));
  }

  private json(res: ServerResponse, status: number, value: unknown): void {
    this.send(res, status, `${JSON.stringify(value, null, 2)}\n`, 'application/json; charset=utf-8');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://host').pathname;
    const route = `${req.method} ${path}`;
    if (isControlRequest(req.method, path)) {
      const refusal = refuseControlRequest(req, { boundHost: (this.server.address() as AddressInfo).address, allowedHosts: this.allowedHosts });
      if (refusal) return this.send(res, refusal.status, `refused: ${refusal.reason}\n`, 'text/plain; charset=utf-8');
    }
    const control = req.method === 'POST' ? CONTROL_ROUTE.exec(path) : null;
    if (control) return this.control(res, control[1] as string, control[2] as ConnectorAction);
    switch (route) {
      case 'GET /':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': STATUS_PAGE.contentSecurityPolicy, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
        return void res.end(STATUS_PAGE.html);
      case 'GET /metrics':
        return this.metrics(res);
      case 'GET /healthz':
        return this.json(res, 200, { status: 'ok' });
      case 'GET /readyz': {
        const connectors = this.source.connectors().map((c) => ({ name: c.name, state: c.state, ready: READY_STATES.has(c.state), ...(c.detail ? { detail: c.detail } : {}) }));
        // A paused connector is the operator's choice, not a fault: it does not make the host unready.
        const ready = connectors.every((c) => c.ready || c.state === 'paused');
        return this.json(res, ready ? 200 : 503, { ready, connectors });
      }
      case 'GET /connectors':
        return this.json(res, 200, { connectors: this.source.connectors() });
      case 'POST /-/reload':
        try {
          return this.json(res, 200, { reloaded: true, ...(await this.source.reload()) });
        } catch (err) {
          return this.json(res, 400, { reloaded: false, error: (err as Error).message });
        }
      default:
        return this.send(res, req.method === 'GET' || req.method === 'POST' ? 404 : 405, `not found: ${route}\n`, 'text/plain; charset=utf-8');
    }
  }

  private async control(res: ServerResponse, name: string, action: ConnectorAction): Promise<void> {
    try {
      const view = await this.source.control(name, action);
      if (!view) return this.json(res, 404, { error: `no connector "${name}"` });
      return this.json(res, 200, { connector: name, action, state: view.state, ...(view.detail !== undefined ? { detail: view.detail } : {}) });
    } catch (err) {
      return this.json(res, 409, { error: (err as Error).message });
    }
  }

  private async metrics(res: ServerResponse): Promise<void> {
    const { metrics, missing } = await this.source.childMetrics(this.childMetricsTimeoutMs);
    this.hostMetrics.countMissing(missing);
    this.hostMetrics.refresh(this.source);
    const merged = AggregatorRegistry.aggregate([await this.hostMetrics.registry.getMetricsAsJSON(), ...metrics]);
    this.send(res, 200, await merged.metrics(), merged.contentType);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
