import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The public surface, pinned: every entry point of @danube-connect/sdk and @danube-connect/testing and every name
// (value or type) each exports. A change here is a change of what plugins may depend on: make it deliberately, and
// update sdk/README.md, "Public surface", with it. ./internal is left out on purpose: it promises nothing.
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const SURFACE: Record<string, Record<string, { source: string; names: string[] }>> = {
  sdk: {
    '.': {
      source: 'sdk/src/index.ts',
      names: [
        'Backoff', 'BackoffOptions', 'CONNECTOR_ERROR_CODES', 'CompatibilityMode', 'CompatibilityResult', 'ConnectorContext', 'ConnectorError',
        'ConnectorErrorCode', 'ConnectorErrorKind', 'ConnectorErrorOptions', 'ConnectorHealth', 'ConnectorLoggerOptions', 'Consumer', 'ConsumerConfig',
        'ConsumerOptions', 'DANUBE_ERROR_CODES', 'DEFAULT_RUNTIME_SETTINGS', 'DanubeAdminClient', 'DanubeAdminClientOptions', 'DanubeClient',
        'DanubeClientOptions', 'DanubeConnectPlugin', 'DanubeError', 'DanubeErrorCode', 'DanubeLogger', 'DanubeMessage', 'DispatchMode', 'FailurePolicy',
        'LogLevel', 'Logger', 'MASK', 'MessageId', 'OffsetGap', 'PLUGIN_API_VERSION', 'PartitionRouter', 'PluginDefinition', 'Producer', 'ProducerConfig',
        'ProducerOptions', 'ProducerOrdering', 'RegisterSchemaInput', 'RegisteredSchema', 'RetryOptions', 'RuntimeSettings', 'SECRET_KEYS', 'SchemaInfo',
        'SchemaRegistryClient', 'SchemaType', 'SchemaVersionChoice', 'SchemaVersionInfo', 'SendOptions', 'SendReceipt', 'SinkConnector',
        'SinkPluginDefinition', 'SinkRecord', 'SourceConnector', 'SourceOutput', 'SourcePluginDefinition', 'SourceRecord', 'SourceRecordOptions',
        'SubscriptionType', 'TlsOptions', 'TokenSource', 'TopicInfo', 'TopicSchemaConfig', 'Transport', 'ValidationPolicy', 'bytesRecord', 'classify',
        'createConnectorLogger', 'definePlugin', 'fnv1a64', 'isDanubeError', 'isSecretKey', 'jsonRecord', 'maskSecrets', 'maskUrlCredentials',
        'parseBrokerUrl', 'partitionTopic', 'scrubSecretValues', 'secretValues', 'textRecord', 'unwrapSchemaDefinition', 'validateTopicName',
      ],
    },
    './core': {
      source: 'sdk/src/core.ts',
      names: [
        'ConnectorLoggerOptions', 'DEFAULT_RUNTIME_SETTINGS', 'DanubeError', 'DanubeErrorCode', 'LogLevel', 'Logger', 'MASK', 'RuntimeSettings',
        'SECRET_KEYS', 'createConnectorLogger', 'findPackageRoot', 'isDanubeError', 'isSecretKey', 'maskSecrets', 'maskUrlCredentials', 'parseBrokerUrl',
        'resolveRuntimeSettings', 'scrubSecretValues', 'secretValues', 'validateTopicName',
      ],
    },
    './protocol': {
      source: 'sdk/src/plugin/protocol.ts',
      names: [
        'CHILD_EXIT_CODES', 'ChildMessage', 'ChildStats', 'ConnectionState', 'DanubeSettings', 'FailedMessage', 'FatalMessage', 'HostMessage',
        'MetricsRequest', 'MetricsResponse', 'PROTOCOL_VERSION', 'PingMessage', 'PongMessage', 'ReadyMessage', 'StartFailureCode', 'StartMessage',
        'StatusMessage', 'StopMessage', 'StoppedMessage', 'drainTimeoutFor', 'isChildMessage', 'isHostMessage',
      ],
    },
    // The connector child the host forks: a program, no exports.
    './plugin/child': { source: 'sdk/src/plugin/child.ts', names: [] },
  },
  testing: {
    '.': {
      source: 'testing/src/index.ts',
      names: [
        'BackoffStrategy', 'BrokerError', 'ChildExit', 'ConnectorProcess', 'ConnectorProcessOptions', 'DEFAULT_FAILURE_POLICY', 'DanubeJwtClaims',
        'FailurePolicy', 'PoisonPolicy', 'StoredMessage', 'TestBroker', 'TestBrokerOptions', 'TestCluster', 'TopicRecord', 'childEntryPath', 'mintJwt',
        'unusedLoopbackPort', 'unusedLoopbackUrl',
      ],
    },
    './conformance': { source: 'testing/src/conformance.ts', names: ['ConformanceEnv', 'ConformanceOptions', 'describeConnectorConformance'] },
  },
};

/** The entry points a package.json declares, ./package.json and ./internal aside. */
function entryPoints(pkg: string): string[] {
  const manifest = JSON.parse(readFileSync(`${ROOT}/${pkg}/package.json`, 'utf8')) as { exports: Record<string, unknown> };
  return Object.keys(manifest.exports).filter((key) => key !== './package.json' && key !== './internal');
}

describe('public surface', () => {
  it.each(Object.keys(SURFACE))('@danube-connect/%s has exactly the pinned entry points', (pkg) => {
    expect(entryPoints(pkg).sort()).toEqual(Object.keys(SURFACE[pkg] ?? {}).sort());
  });

  it('every entry point exports exactly the pinned names (values and types)', () => {
    const entries = Object.values(SURFACE).flatMap((pkg) => Object.values(pkg));
    const program = ts.createProgram(
      entries.map((e) => `${ROOT}/${e.source}`),
      { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
    );
    const checker = program.getTypeChecker();
    for (const { source, names } of entries) {
      const file = program.getSourceFile(`${ROOT}/${source}`);
      if (!file) throw new Error(`${source} is missing`);
      const module = checker.getSymbolAtLocation(file);
      const exported = module ? checker.getExportsOfModule(module).map((s) => s.name).sort() : [];
      expect(exported, source).toEqual(names);
    }
  }, 60_000);
});
