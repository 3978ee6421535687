import { isHostMessage, type ChildMessage, type HostMessage } from './protocol.js';

/** The child's end of the IPC channel, as the session uses it. */
export interface ChildChannel {
  readonly connected: boolean;
  /**
   * Sends one message. Resolves true once it is handed to the channel, false when the channel is closed or the
   * write failed (the host is gone): never rejects, never throws, so a dying channel cannot hide why we exit.
   */
  send(message: ChildMessage): Promise<boolean>;
  /** Messages that pass the protocol guard; anything else is ignored. */
  onMessage(listener: (message: HostMessage) => void): void;
  onDisconnect(listener: () => void): void;
}

const CLOSED_CHANNEL_CODES = new Set(['EPIPE', 'ERR_IPC_CHANNEL_CLOSED', 'ECONNRESET', 'ERR_IPC_DISCONNECTED']);

/** An error of a channel or pipe whose other end has gone: a symptom of the host's exit, not a cause. */
export function isClosedChannelError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CLOSED_CHANNEL_CODES.has(code);
}

/** The IPC channel of this process (`process.send`); requires a process forked with an IPC channel. */
export function processChannel(proc: NodeJS.Process = process): ChildChannel {
  // Without a callback a failed send is emitted as 'error' on process, and an unhandled 'error' crashes the
  // child (vitest handles EPIPE the same way: held until the exit reports the real cause). Every send below
  // has a callback; this listener catches anything else.
  proc.on('error', (err) => {
    if (!isClosedChannelError(err)) throw err;
  });
  return {
    get connected() {
      return proc.connected === true;
    },
    send(message) {
      return new Promise<boolean>((resolve) => {
        if (!proc.connected || typeof proc.send !== 'function') return resolve(false);
        try {
          proc.send(message, undefined, {}, (err: Error | null) => resolve(err === null || err === undefined));
        } catch {
          resolve(false);
        }
      });
    },
    onMessage(listener) {
      proc.on('message', (message: unknown) => {
        if (isHostMessage(message)) listener(message);
      });
    },
    onDisconnect(listener) {
      proc.once('disconnect', listener);
    },
  };
}
