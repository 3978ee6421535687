import type { ConnectorHealth } from '../connector.js';
import type { RuntimeStatus } from '../runtime/connector-runtime.js';

/** A health() that does not answer within this is itself a symptom. */
const HEALTH_TIMEOUT_MS = 2_000;

/**
 * Asks the connector about its external system. A connector without `health()` is healthy as far as it knows;
 * one that throws or hangs is reported unhealthy with the reason, never crashes the ping that asked.
 */
export async function probeConnectorHealth(connector: { health?: () => ConnectorHealth | Promise<ConnectorHealth> }): Promise<ConnectorHealth> {
  if (typeof connector.health !== 'function') return { status: 'healthy' };
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve(connector.health()),
      new Promise<ConnectorHealth>((resolve) => {
        timer = setTimeout(() => resolve({ status: 'unhealthy', detail: `health() did not answer within ${HEALTH_TIMEOUT_MS} ms` }), HEALTH_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    return { status: 'unhealthy', detail: `health() threw: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    clearTimeout(timer);
  }
}

/** The state the host sees: the runtime's (Danube, retries) joined with the connector's (its external system). */
export function mergeHealth(runtime: RuntimeStatus, health: ConnectorHealth): RuntimeStatus {
  if (health.status === 'healthy') return runtime;
  const own = `connector ${health.status}${health.detail ? `: ${health.detail}` : ''}`;
  return { state: 'degraded', detail: runtime.state === 'degraded' && runtime.detail ? `${runtime.detail}; ${own}` : own };
}
