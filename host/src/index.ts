// Public API of @danube-connect/host (the CLI is dist/cli.js).
export type { ConnectorSpec, ResolvedPlugin, RestartSettings } from './connector-spec.js';
export { loadHostConfig, loadHostConfigOrThrow } from './config/load-host-config.js';
export type { HostConfig, HostConfigResult, LoadHostConfigOptions } from './config/load-host-config.js';
export type { ConnectorSettings, HostSettings } from './config/connector-settings.js';
export type { ConnectorToml, DanubeToml, HostToml, ProcessingToml, RestartToml, TlsToml } from './config/host-toml.js';
export { formatProblem, type ConfigProblem } from './config/config-problem.js';
export { reachableAddress } from './http/reachable-address.js';
export { validateHost, validateHostOrThrow } from './validate-host.js';
export type { ValidateHostOptions, ValidateHostResult, ValidatedHost } from './validate-host.js';
export { scanPlugins, type FoundPlugin } from './discovery/scan-plugins.js';
export type { PluginIssue, PluginReport } from './discovery/read-plugin.js';
export { CONFIG_PROBLEM_CODES, CONFIG_WARNING_CODES, SUPERVISOR_ERROR_CODES, type ConfigProblemCode, type ConfigWarningCode, type SupervisorErrorCode } from './errors.js';
export { HostConfigError } from './config/host-config-error.js';
export { loadTestingKit, TESTING_KIT_MISSING, type TestingKit } from './testing-kit.js';
// Supervisor: runs one child per connector (see host/src/supervisor/).
export { Supervisor } from './supervisor/supervisor.js';
export type { ConnectorMetrics, MetricsCollection, ReplaceResult, SupervisorOptions, SupervisorStopResult } from './supervisor/supervisor.js';
export type { ConnectorStopResult, StopOutcome } from './supervisor/connector-supervisor.js';
export { CONNECTOR_STATES } from './supervisor/connector-state.js';
export type { ConnectorSnapshot, ConnectorState, ExitRecord, PongRecord } from './supervisor/connector-state.js';
export type { ExitReason } from './supervisor/exit-reason.js';
export type { ConnectorExitEvent, ConnectorLogEvent, StateChangeEvent, SupervisorEventName, SupervisorEvents, SupervisorListener } from './supervisor/supervisor-events.js';
export { RestartPolicy, type CrashKind, type RestartDecision } from './supervisor/restart-policy.js';
