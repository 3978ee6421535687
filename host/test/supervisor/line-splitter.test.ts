import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/supervisor/line-splitter.js';

function split(max: number, chunks: string[], end = false): { lines: [string, boolean][]; held: number[] } {
  const lines: [string, boolean][] = [];
  const splitter = new LineSplitter(max, (line, truncated) => lines.push([line, truncated]));
  const held: number[] = [];
  for (const chunk of chunks) {
    splitter.push(Buffer.from(chunk));
    held.push(splitter.bufferedBytes);
  }
  if (end) splitter.end();
  return { lines, held };
}

describe('LineSplitter', () => {
  it('splits lines across chunks, drops a trailing CR and skips empty lines', () => {
    expect(split(100, ['a\nb', 'c\r\n\n', 'd'], true).lines).toEqual([
      ['a', false],
      ['bc', false],
      ['d', false],
    ]);
  });

  it('cuts a long line at the limit as soon as it reaches it, discards the rest up to its newline, and never holds more', () => {
    const { lines, held } = split(4, ['abc', 'defgh', 'ijk', 'l\nmn\n', 'xxxxxxxxxx'], true);
    expect(lines).toEqual([
      ['abcd', true],
      ['mn', false],
      ['xxxx', true],
    ]);
    expect(Math.max(...held)).toBeLessThanOrEqual(4);
  });

  it('a line of exactly the limit is whole', () => {
    expect(split(4, ['abcd\nabcde\n']).lines).toEqual([
      ['abcd', false],
      ['abcd', true],
    ]);
  });
});
