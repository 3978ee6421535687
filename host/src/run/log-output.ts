import { pino, type DestinationStream } from 'pino';

/** Writes the host's and its children's NDJSON lines, one stream for both so lines never interleave. */
export interface LogOutput {
  destination: DestinationStream;
  /** A child's line, without its newline. */
  relay(line: string): void;
  /**
   * Resolves once every line written so far is on the fd, in order, then closes the fd unless it is stdout or
   * stderr. Lines written after it are dropped: there is nowhere left to write them.
   */
  close(): Promise<void>;
}

type Prettify = (line: string) => string;

/** pino-pretty's line formatter when the package is installed (it is optional), else undefined. */
async function loadPrettifier(): Promise<Prettify | undefined> {
  try {
    const { prettyFactory } = (await import('pino-pretty')) as { prettyFactory: (options: object) => (input: string) => string };
    return prettyFactory({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  } catch {
    return undefined;
  }
}

/**
 * NDJSON on stdout, for log shippers; human-readable lines instead when stdout is a terminal and pino-pretty is
 * installed (`npm i pino-pretty`). Children's relayed lines go through the same formatter.
 */
export async function createLogOutput(options: { fd?: number; isTTY?: boolean } = {}): Promise<LogOutput> {
  const sink = pino.destination({ dest: options.fd ?? 1, sync: false });
  const pretty = (options.isTTY ?? process.stdout.isTTY) ? await loadPrettifier() : undefined;
  let closed: Promise<void> | undefined;
  const write = (text: string) => {
    if (!closed) sink.write(text);
  };
  const format = (line: string) => {
    if (!pretty) return `${line}\n`;
    try {
      return pretty(line);
    } catch {
      return `${line}\n`;
    }
  };
  return {
    destination: { write: (chunk: string) => write(pretty ? format(chunk.replace(/\n$/, '')) : chunk) },
    relay: (line) => write(format(line)),
    // Not flushSync(): it skips the write already in flight, whose line then lands after the later ones (or, at
    // exit, never). end() writes everything in order, then 'close' (or 'error': nowhere left to report it).
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        sink.once('close', resolve);
        sink.once('error', () => resolve());
        sink.end();
      });
      return closed;
    },
  };
}
