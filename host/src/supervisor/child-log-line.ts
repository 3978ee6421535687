/** What the host knows of the child a line came from: the envelope of every line it relays. */
export interface ChildEnvelope {
  connector: string;
  /** `name@version`. */
  plugin: string;
  /** The child's pid. */
  pid: number | undefined;
}

/** pino's numeric levels for lines that are not the child's own NDJSON. */
const INFO = 30;
const WARN = 40;

/**
 * A raw line of the child (text, or a line cut at the length limit) as one NDJSON line of the host's log
 * stream: the text becomes `msg`, tagged with the host-assigned envelope, its stream, and `truncated`.
 */
export function wrappedLine(envelope: ChildEnvelope, stream: 'stdout' | 'stderr', line: string, truncated: boolean): string {
  return JSON.stringify({
    level: stream === 'stderr' ? WARN : INFO,
    time: Date.now(),
    pid: envelope.pid,
    connector: envelope.connector,
    plugin: envelope.plugin,
    stream,
    ...(truncated ? { truncated: true } : {}),
    msg: line,
  });
}
