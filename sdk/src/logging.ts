import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { BoundedLogStream } from './bounded-log-stream.js';
import { maskSecrets, scrubSecretValues } from './secrets.js';

/** The most log text a connector process holds unwritten before it drops lines, bytes (about 4,000 lines of 1 KB). */
export const MAX_LOG_BUFFER_BYTES = 4 * 1024 * 1024;

/** The default destination of createConnectorLogger: stdout, buffered up to MAX_LOG_BUFFER_BYTES. */
export function stdoutLogStream(): BoundedLogStream {
  return new BoundedLogStream(process.stdout, MAX_LOG_BUFFER_BYTES);
}

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
 * under `err`, every line tagged with `bindings` (the connector and plugin names in a child). By default stdout
 * through a bounded buffer (stdoutLogStream: lines beyond MAX_LOG_BUFFER_BYTES unwritten are dropped). Secrets are
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
  const target = destination ?? stdoutLogStream();
  const logger = pino(loggerOptions, scrubbing(target, options.secrets ?? []));
  // pino resets the bindings formatter for children; children inherit this method (Object.create), so all levels mask.
  const child = logger.child;
  logger.child = function (this: Logger, childBindings, childOptions) {
    return child.call(this, maskSecrets(childBindings), childOptions);
  } as Logger['child'];
  return logger;
}

export type { Logger };
