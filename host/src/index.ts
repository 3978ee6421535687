// Public API of @danube-connect/host (the CLI is dist/cli.js).
export type { ConnectorSpec, ResolvedPlugin, RestartSettings } from './connector-spec.js';
