// @danube-connect/sdk/internal: NOT part of the public surface (sdk/README.md, "Public surface"). What the
// repository's own packages reach inside the SDK for: the test kit (@danube-connect/testing: the gRPC service
// definitions and wire shapes its TestBroker serves), the host's tests and the benchmarks (the runtimes and their
// metrics registry). It may change in any minor release; @danube-connect/testing of the same minor follows it.
export { serviceClient, serviceDefinition, type DanubeGrpcPackages } from './danube/proto.js';
export type * from './danube/wire.js';
export { ConnectorMetrics } from './runtime/connector-metrics.js';
export { SourceRuntime } from './runtime/source-runtime.js';
