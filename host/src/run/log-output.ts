import { pino, type DestinationStream } from 'pino';

/** Writes the host's and its children's NDJSON lines, one stream for both so lines never interleave. */
export interface LogOutput {
  destination: DestinationStream;
  /** A child's line, without its newline. */
  relay(line: string): void;
  flush(): void;
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
  if (!pretty) {
    return { destination: sink, relay: (line) => sink.write(`${line}\n`), flush: () => sink.flushSync() };
  }
  const write = (line: string) => {
    try {
      sink.write(pretty(line));
    } catch {
      sink.write(`${line}\n`);
    }
  };
  return {
    destination: { write: (chunk: string) => write(chunk.replace(/\n$/, '')) },
    relay: write,
    flush: () => sink.flushSync(),
  };
}
