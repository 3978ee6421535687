import type { StartFailureCode } from './protocol.js';

/**
 * Why a start attempt failed, with the protocol's failure code. Its message names the connector, the plugin
 * and the cause; it travels to the host as a `failed` message.
 */
export class StartFailure extends Error {
  override name = 'StartFailure';

  constructor(
    readonly code: StartFailureCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** One line describing an error for a failure message: its name and message, never a stack. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${err.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${err.message}`;
  }
  return `non-error value thrown: ${String(err)}`;
}
