// The host's stable error codes: plain data at the bottom of the import graph (config, discovery and the
// supervisor all import it; it imports nothing).

/**
 * Stable codes of the problems `validate` (and `run`, before anything starts) reports about host.toml, its
 * connectors and their plugins. Retired codes are never reused.
 */
export const CONFIG_PROBLEM_CODES = {
  DC_ERR_HOST_FILE: 'host.toml cannot be read',
  DC_ERR_TOML_SYNTAX: 'host.toml is not valid TOML (file, line and column are named)',
  DC_ERR_ENV_UNSET: 'a ${NAME} reference names an unset environment variable and has no :-default',
  DC_ERR_ENV_REFERENCE: 'a malformed ${...} reference (use $${ for a literal ${)',
  DC_ERR_ENV_FILE: 'a ${file:path} reference names a file that cannot be read, is not a regular file or is larger than 1 MiB',
  DC_ERR_CONFIG_SCHEMA: 'a key of host.toml does not match host.schema.json (unknown key, wrong type, out of range)',
  DC_ERR_DUPLICATE_CONNECTOR: 'two connectors have the same name',
  DC_ERR_INVALID_ADDRESS: '[host] http is not a host:port address',
  DC_ERR_INVALID_URL: 'a broker URL is not http(s)://host:port',
  DC_ERR_INVALID_TOPIC: 'a topic name is not /<namespace>/<topic>',
  DC_ERR_TLS_FILE: 'a TLS file cannot be read, or only one of cert and key is set',
  DC_ERR_CONFIG_CONFLICT: 'two settings contradict each other (an initial delay above its cap, dead_letter without a topic …)',
  DC_ERR_PLUGIN_NOT_FOUND: 'the plugin package is not installed where the host looks for it',
  DC_ERR_PLUGIN_NAME: 'the plugin value is neither an npm package name nor a folder path (./, ../ or /)',
  DC_ERR_PLUGIN_PACKAGE: "the plugin's package.json cannot be read or lacks name/version",
  DC_ERR_PLUGIN_MANIFEST: 'the package has no or an invalid "danube-connect" manifest',
  DC_ERR_PLUGIN_ENTRY: "the manifest's entry file does not exist",
  DC_ERR_PLUGIN_SDK: "the running SDK version is outside the plugin's sdk range",
  DC_ERR_PLUGIN_SCHEMA: "the plugin's configSchema cannot be read or does not compile",
  DC_ERR_CONNECTOR_CONFIG: "a connector's [connectors.config] does not match its plugin's configSchema",
} as const;

export type ConfigProblemCode = keyof typeof CONFIG_PROBLEM_CODES;

/** Stable codes of what `validate` and `run` warn about: a valid host.toml that is probably not what was meant. */
export const CONFIG_WARNING_CODES = {
  DC_WARN_ENDPOINT_LOOP: "a connector publishes to an external broker what another connector subscribes to there (plugins' manifest endpoints)",
} as const;

export type ConfigWarningCode = keyof typeof CONFIG_WARNING_CODES;

/** Stable codes the supervisor records as a connector's last error (on /connectors and in logs). */
export const SUPERVISOR_ERROR_CODES = {
  DC_ERR_READY_TIMEOUT: 'a start attempt sent no ready within ready_timeout_ms: the child was killed and is restarted',
  DC_ERR_HUNG: 'a child answered no heartbeat for 3 ping intervals: it was killed and is restarted',
  DC_ERR_OUT_OF_MEMORY: 'a child hit its memory_mb heap cap and died: it is restarted',
} as const;

export type SupervisorErrorCode = keyof typeof SUPERVISOR_ERROR_CODES;
