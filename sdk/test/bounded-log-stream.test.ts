import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BoundedLogStream } from '../src/bounded-log-stream.js';

/** A stream that takes nothing until `release()`: a pipe whose reader stalls (highWaterMark 16 KiB, as a socket's). */
function stalledStream() {
  const written: string[] = [];
  const pending: (() => void)[] = [];
  let open = false;
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string, _encoding, done) {
      const finish = () => {
        written.push(chunk);
        done();
      };
      if (open) finish();
      else pending.push(finish);
    },
  });
  return {
    stream,
    written,
    release() {
      open = true;
      pending.splice(0).forEach((finish) => finish());
    },
  };
}

describe('BoundedLogStream', () => {
  it('holds at most maxBufferedBytes unwritten, drops and counts whole lines beyond, and writes the rest in order', () => {
    const target = stalledStream();
    const output = new BoundedLogStream(target.stream, 1_000);
    for (let i = 0; i < 100; i++) output.write(`${String(i).padStart(98, '0')}\n`);
    expect(output.bufferedBytes).toBeLessThanOrEqual(1_000);
    expect(output.bufferedBytes).toBeGreaterThan(900);
    expect(output.droppedLines).toBe(90);
    target.release();
    expect(target.written.join('')).toBe(Array.from({ length: 10 }, (_, i) => `${String(i).padStart(98, '0')}\n`).join(''));
    expect(output.bufferedBytes).toBe(0);
  });

  it('writes a line longer than the buffer when nothing is buffered, rather than losing it', () => {
    const target = stalledStream();
    const output = new BoundedLogStream(target.stream, 10);
    output.write(`${'x'.repeat(50)}\n`);
    output.write('next\n');
    expect(output.droppedLines).toBe(1);
    target.release();
    expect(target.written).toEqual([`${'x'.repeat(50)}\n`]);
  });

  it('flush calls back once the backlog is written, also below the high-water mark (no drain event then)', async () => {
    const target = stalledStream();
    const output = new BoundedLogStream(target.stream, 1_000);
    output.write('one\n');
    let flushed = false;
    output.flush(() => (flushed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(false);
    target.release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(true);
    expect(target.written.join('')).toBe('one\n');
  });

  it('counts only its own lines against the limit: a plugin\'s own backlog on the same stdout does not silence the logger', () => {
    const target = stalledStream();
    const output = new BoundedLogStream(target.stream, 1_000);
    target.stream.write('y'.repeat(50_000));
    output.write('still logged\n');
    expect(output.droppedLines).toBe(0);
    expect(output.bufferedBytes).toBe('still logged\n'.length);
    target.release();
    expect(target.written.at(-1)).toBe('still logged\n');
  });

  it('drops everything after the stream broke (the host is gone) and flushes at once', () => {
    const target = stalledStream();
    const output = new BoundedLogStream(target.stream, 1_000);
    target.stream.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    output.write('lost\n');
    expect(output.droppedLines).toBe(1);
    let flushed = false;
    output.flush(() => (flushed = true));
    expect(flushed).toBe(true);
  });
});
