import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { maskSecrets, SECRET_KEYS } from './secrets.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

// pino redaction paths are exact; cover the secret keys at the top level and two levels down, which is where
// connector configs put them (`config.password`, `config.tls.key`). Deeper objects go through maskSecrets.
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

/**
 * The logger of a connector process, and of the host: NDJSON on stdout (the host relays its children's), errors
 * under `err`, secrets redacted, every line tagged with `bindings` (the connector and plugin names in a child).
 */
export function createConnectorLogger(
  bindings: Readonly<Record<string, string>>,
  level: LogLevel = 'info',
  destination?: DestinationStream,
): Logger {
  const options: LoggerOptions = {
    level,
    base: { pid: process.pid, ...bindings },
    redact: { paths: REDACT_PATHS, censor: '***' },
    serializers: { err: pino.stdSerializers.err, config: maskSecrets },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
