/** Called with each line (without its newline), and whether it was cut at the limit. */
export type OnLine = (line: string, truncated: boolean) => void;

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into lines, holding at most `maxLineBytes` of an unfinished line: a longer line is
 * emitted cut at the limit (`truncated`) as soon as it reaches it, and the rest of it, up to its newline, is
 * discarded unread. So memory stays bounded whatever a child writes, unlike readline, which keeps a line with no
 * newline in one growing string until `RangeError: Invalid string length` kills the host. Empty lines are
 * skipped; a trailing `\r` is dropped; a multi-byte character cut at the limit becomes U+FFFD.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  /** Inside the discarded rest of a cut line. */
  private skipping = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: OnLine,
  ) {}

  /** Bytes of the unfinished line held right now (never more than maxLineBytes). */
  get bufferedBytes(): number {
    return this.size;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline === -1 ? chunk.length : newline;
      if (!this.skipping) {
        const room = this.maxLineBytes - this.size;
        if (end - start > room) {
          this.hold(chunk.subarray(start, start + room), newline === -1);
          this.emit(true);
          this.skipping = true;
        } else if (end > start) {
          this.hold(chunk.subarray(start, end), newline === -1);
        }
      }
      if (newline === -1) return;
      if (this.skipping) this.skipping = false;
      else this.emit(false);
      start = newline + 1;
    }
  }

  /** The stream ended: an unfinished line is emitted as it is. */
  end(): void {
    if (!this.skipping) this.emit(false);
    this.skipping = false;
  }

  private hold(bytes: Buffer, copy: boolean): void {
    if (bytes.length === 0) return;
    // A part kept past this chunk is copied, so a few bytes never pin the whole chunk in memory.
    this.parts.push(copy ? Buffer.from(bytes) : bytes);
    this.size += bytes.length;
  }

  private emit(truncated: boolean): void {
    let bytes = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    if (!truncated && bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, -1);
    if (bytes.length > 0) this.onLine(bytes.toString('utf8'), truncated);
  }
}
