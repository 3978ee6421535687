import type { HealthCheckRequestWire, HealthCheckResponseWire } from '@danube-connect/sdk/internal';
import type { Broker } from './broker.js';
import { invalidArgument } from './broker-error.js';
import { unary } from './grpc-handlers.js';

/**
 * HealthCheck (docs/danube-protocol.md §11): OK when the producer is known on this broker, or the consumer is known and
 * active; CLOSE otherwise (so `{Producer, id: 0}` doubles as a readiness probe).
 */
function healthCheck(broker: Broker, request: HealthCheckRequestWire): HealthCheckResponseWire {
  switch (request.client) {
    case 'Producer':
      return { status: broker.producers.has(request.id) ? 'OK' : 'CLOSE' };
    case 'Consumer':
      return { status: broker.consumers.get(request.id)?.active ? 'OK' : 'CLOSE' };
    default:
      throw invalidArgument(`Invalid client type ${String(request.client)}`);
  }
}

export function healthService(broker: Broker): Record<string, unknown> {
  return {
    HealthCheck: unary<HealthCheckRequestWire, HealthCheckResponseWire>((request) => healthCheck(broker, request)),
  };
}
