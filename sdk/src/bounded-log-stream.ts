import type { Writable } from 'node:stream';

/**
 * A log destination over a stream (the child's stdout pipe) that buffers at most `maxBufferedBytes` the stream
 * has not written yet, dropping and counting whole lines beyond that. A plugin that logs faster than the host
 * relays then costs a bounded amount of memory, and the event loop never blocks on a full pipe: the stream
 * writes asynchronously (a pipe or socket stdout is non-blocking once opened as a stream), unlike pino's
 * default writer, whose buffer has no limit and whose pending write holds up the exit until the pipe drains.
 */
export class BoundedLogStream {
  private dropped = 0;
  private broken = false;
  /** What this stream wrote since the target was last seen empty: its own share of the target's backlog, at most. */
  private written = 0;

  constructor(
    private readonly target: Writable,
    readonly maxBufferedBytes: number,
  ) {
    // A closed pipe (the host is gone): everything after it is dropped; the exit path reports why.
    target.on('error', () => (this.broken = true));
  }

  /**
   * This stream's lines the target has not written yet (characters of text, about bytes for NDJSON), at most: a
   * plugin's own writes to stdout (console.log) share the backlog and are not counted against the logger.
   */
  get bufferedBytes(): number {
    const backlog = this.target.writableLength;
    if (backlog === 0) this.written = 0;
    return Math.min(this.written, backlog);
  }

  /** Lines dropped because the buffer was full or the stream broken. */
  get droppedLines(): number {
    return this.dropped;
  }

  write(line: string): void {
    const buffered = this.bufferedBytes;
    // One line always fits into an empty buffer, so a single huge line is written rather than lost.
    if (this.broken || this.target.destroyed || (buffered > 0 && buffered + line.length > this.maxBufferedBytes)) {
      this.dropped++;
      return;
    }
    this.written += line.length;
    this.target.write(line);
  }
  /** Calls back once everything buffered is written (or the stream broke); bound the wait by the caller. */
  flush(cb?: (err?: Error) => void): void {
    if (this.broken || this.target.destroyed || this.target.writableLength === 0) {
      cb?.();
      return;
    }
    // Writes complete in order, so an empty one calls back after the backlog ('drain' only follows a write that
    // returned false, which a backlog below the high-water mark never did).
    this.target.write('', () => cb?.());
  }
}
