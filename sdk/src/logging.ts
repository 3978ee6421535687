import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { maskSecrets, scrubSecretValues } from './secrets.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface ConnectorLoggerOptions {
  /**
   * Secret values to replace with `***` wherever they appear in a line (messages, error messages, stack traces):
   * the host hands each child the secrets of its config. A live array: values pushed later are scrubbed too.
   */
  secrets?: readonly string[];
}

/** Masks URL userinfo and known secret values in each serialized line, whatever field or message carries them. */
function scrubbing(target: DestinationStream, secrets: readonly string[]): DestinationStream {
  const stream = target as DestinationStream & { flush?: (cb?: () => void) => void; flushSync?: () => void };
  return {
    write: (line: string) => stream.write(scrubSecretValues(line, secrets)),
    ...(stream.flush ? { flush: (cb?: () => void) => stream.flush?.(cb) } : {}),
    ...(stream.flushSync ? { flushSync: () => stream.flushSync?.() } : {}),
  } as DestinationStream;
}

/**
 * The logger of a connector process, and of the host: NDJSON on stdout (the host relays its children's), errors
 * under `err`, every line tagged with `bindings` (the connector and plugin names in a child). Secrets are
 * redacted by key name at any depth (maskSecrets, also in child bindings), URL userinfo and `options.secrets`
 * are scrubbed from the finished line.
 */
export function createConnectorLogger(
  bindings: Readonly<Record<string, string>>,
  level: LogLevel = 'info',
  destination?: DestinationStream,
  options: ConnectorLoggerOptions = {},
): Logger {
  const loggerOptions: LoggerOptions = {
    level,
    base: { pid: process.pid, ...bindings },
    formatters: { log: (object) => maskSecrets(object), bindings: (object) => maskSecrets(object) },
    serializers: { err: pino.stdSerializers.err },
  };
  const target = destination ?? pino.destination({ dest: process.stdout.fd || 1, sync: false });
  const logger = pino(loggerOptions, scrubbing(target, options.secrets ?? []));
  // pino resets the bindings formatter for children; children inherit this method (Object.create), so all levels mask.
  const child = logger.child;
  logger.child = function (this: Logger, childBindings, childOptions) {
    return child.call(this, maskSecrets(childBindings), childOptions);
  } as Logger['child'];
  return logger;
}

export type { Logger };
