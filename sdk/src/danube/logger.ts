/** The logging surface the client needs; a pino logger fits it as is. */
export interface DanubeLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => {};

export const silentLogger: DanubeLogger = { debug: noop, info: noop, warn: noop, error: noop };
