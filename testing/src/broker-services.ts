import { status } from '@grpc/grpc-js';
import type { Server } from '@grpc/grpc-js';
import { serviceDefinition } from '@danube-connect/sdk/internal';
import type { DanubeGrpcPackages } from '@danube-connect/sdk/internal';
import { adminServices } from './admin-service.js';
import type { AuthGuard, CallCheck, Denial } from './auth-guard.js';
import type { Broker } from './broker.js';
import { consumerService } from './consumer-service.js';
import { discoveryService } from './discovery-service.js';
import type { FaultState } from './fault-state.js';
import { guardService, withDecodeLimit } from './grpc-handlers.js';
import { healthService } from './health-service.js';
import { producerService } from './producer-service.js';
import { schemaRegistryService } from './schema-registry-service.js';

type Implementations = Record<string, Record<string, unknown>>;

const UNAVAILABLE: Denial = { code: status.UNAVAILABLE, details: 'Broker unavailable (TestBroker.unavailableFor)' };

function addAll(server: Server, pkg: keyof DanubeGrpcPackages, implementations: Implementations, check: CallCheck): void {
  for (const [service, implementation] of Object.entries(implementations)) {
    const definition = withDecodeLimit(serviceDefinition(pkg, service));
    server.addService(definition, guardService(definition, implementation, check));
  }
}

/**
 * Registers the services of both ports (docs/danube-protocol.md §2.1): the client port serves producers, consumers,
 * discovery, health and the schema registry, and answers UNAVAILABLE while a fault says so; the admin port
 * serves danube_admin and the schema registry. Both run the same authentication (docs/danube-protocol.md §5).
 */
export function registerBrokerServices(
  servers: { client: Server; admin: Server },
  broker: Broker,
  faults: FaultState,
  auth: AuthGuard | undefined,
  proxyHeaders: Set<string>,
): void {
  const authCheck: CallCheck = auth ? auth.check : () => undefined;
  const clientCheck: CallCheck = (metadata) => {
    // The broker ignores x-danube-broker-url (docs/danube-protocol.md §2.4); it is recorded only so tests can see what clients send.
    const [proxyHeader] = metadata.get('x-danube-broker-url');
    if (proxyHeader !== undefined) proxyHeaders.add(String(proxyHeader));
    return faults.unavailable ? UNAVAILABLE : authCheck(metadata);
  };
  const schemaRegistry = { SchemaRegistry: schemaRegistryService(broker) };
  addAll(
    servers.client,
    'danube',
    {
      ProducerService: producerService(broker, faults),
      ConsumerService: consumerService(broker, faults),
      Discovery: discoveryService(broker),
      HealthCheck: healthService(broker),
    },
    clientCheck,
  );
  addAll(servers.client, 'danube_schema', schemaRegistry, clientCheck);
  addAll(servers.admin, 'danube_admin', adminServices(broker), authCheck);
  addAll(servers.admin, 'danube_schema', schemaRegistry, authCheck);
}
