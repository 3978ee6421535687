import { pino, type DestinationStream } from 'pino';

/** Most bytes of log lines held for a stdout that does not keep up; past it lines are dropped and counted. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/**
 * At the end, how long the last lines may wait for a stdout that takes nothing, ms. A reader that takes lines,
 * however slowly, gets them all (a backlog of 8 MiB through a loaded machine's pipe takes seconds), up to
 * FLUSH_LIMIT_MS in all.
 */
const FLUSH_STALL_MS = 2_000;
const FLUSH_LIMIT_MS = 15_000;

/** What the log output held back and threw away, for the host's metrics. */
interface LogOutputStats {
  /** Lines dropped because stdout did not keep up (or failed) and the buffer was full. */
  droppedLines: number;
  /** Bytes accepted and not yet written to stdout. */
  bufferedBytes: number;
}

/** Writes the host's and its children's NDJSON lines, one stream for both so lines never interleave. */
export interface LogOutput {
  destination: DestinationStream;
  /** A child's line, without its newline. */
  relay(line: string): void;
  /**
   * Resolves once every line written so far is on the fd, in order (or, for a stdout that takes nothing for
   * FLUSH_STALL_MS, or not all of it within FLUSH_LIMIT_MS, then), then closes the fd unless it is stdout or stderr. Lines written after it are dropped:
   * there is nowhere left to write them.
   */
  close(): Promise<void>;
  /**
   * Resolves once the buffer is at most half full (or stdout took nothing for FLUSH_STALL_MS, or FLUSH_LIMIT_MS
   * passed), so that the lines written next are kept: the host's last lines after a stdout that did not keep up.
   */
  room(): Promise<void>;
  stats(): LogOutputStats;
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
 *
 * Writes are asynchronous and never wait for stdout: a stdout that does not keep up (a stalled reader, a full
 * pipe) fills a buffer of `maxBufferedBytes`, past which lines are dropped and counted. Waiting instead would
 * stop the host reading its children's pipes, which blocks their synchronous loggers, so they miss heartbeats
 * and are killed as hung; buffering without a bound grows the host's memory without end.
 */
export async function createLogOutput(options: { fd?: number; isTTY?: boolean; maxBufferedBytes?: number } = {}): Promise<LogOutput> {
  // Reading process.stdout first makes a pipe on fd 1 non-blocking (Node does so when it opens the stream), so a
  // full pipe answers EAGAIN (retried later) instead of blocking a thread of the pool.
  const isTTY = options.isTTY ?? process.stdout.isTTY;
  /** Set by close: past it, a write that would block gives up instead of being retried. */
  let closingSince: number | undefined;
  let lastProgress = Date.now();
  /** Waiting since `since` is over: stdout took nothing for FLUSH_STALL_MS, or FLUSH_LIMIT_MS passed. */
  const waitedEnough = (since: number) => Date.now() - lastProgress >= FLUSH_STALL_MS || Date.now() - since >= FLUSH_LIMIT_MS;
  const givingUp = () => closingSince !== undefined && waitedEnough(closingSince);
  const sink = pino.destination({
    dest: options.fd ?? 1,
    sync: false,
    maxLength: options.maxBufferedBytes ?? MAX_BUFFERED_BYTES,
    retryEAGAIN: () => !givingUp(),
  });
  let accepted = 0;
  let written = 0;
  let droppedLines = 0;
  let dropped = false;
  sink.on('drop', () => {
    dropped = true;
  });
  sink.on('write', (bytes: number) => {
    written += bytes;
    lastProgress = Date.now();
  });
  // A stdout that is gone (EPIPE) is not the host's end: its lines are dropped from here on, counted.
  let failed = false;
  sink.on('error', () => {
    failed = true;
  });
  let closed: Promise<void> | undefined;
  const put = (text: string) => {
    if (closed) return;
    dropped = false;
    sink.write(text);
    if (dropped) droppedLines += 1;
    else accepted += Buffer.byteLength(text);
  };
  // Not flushSync(): it skips the write already in flight, whose line then lands after the later ones (or, at
  // exit, never), and retries an EPIPE forever. end() writes everything in order, then 'close'; 'error' (stdout
  // gone, or still blocked at giveUpAt) leaves nowhere to write the rest.
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      closingSince = Date.now();
      lastProgress = closingSince;
      if (failed) return resolve();
      // A write blocked in the fs thread pool (a stuck reader on a blocking pipe) answers neither event.
      const timer = setInterval(() => {
        if (givingUp()) done();
      }, 250);
      function done() {
        clearInterval(timer);
        resolve();
      }
      sink.once('close', done);
      sink.once('error', done);
      sink.end();
    });
    return closed;
  };
  const stats = () => ({ droppedLines, bufferedBytes: accepted - written });
  const maxBuffered = options.maxBufferedBytes ?? MAX_BUFFERED_BYTES;
  const room = () =>
    new Promise<void>((resolve) => {
      const since = Date.now();
      const check = () => {
        if (failed || accepted - written <= maxBuffered / 2 || waitedEnough(since)) {
          clearInterval(timer);
          sink.off('write', check);
          resolve();
        }
      };
      // Progress wakes it ('write'); the timer notices a stall.
      const timer = setInterval(check, 250);
      sink.on('write', check);
      check();
    });
  const pretty = isTTY ? await loadPrettifier() : undefined;
  if (!pretty) {
    return { destination: { write: put }, relay: (line) => put(`${line}\n`), close, room, stats };
  }
  const write = (line: string) => {
    try {
      put(pretty(line));
    } catch {
      put(`${line}\n`);
    }
  };
  return {
    destination: { write: (chunk: string) => write(chunk.replace(/\n$/, '')) },
    relay: write,
    close,
    room,
    stats,
  };
}
