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
 * Keys the host sets on every relayed line. A child's own value for one of them (other than the value the host
 * sets anyway, as the SDK's logger does for connector, plugin and pid) is kept under `childFields`, never in
 * its place, so no child can pass a line off as the host's (`component`) or another connector's.
 */
const HOST_KEYS = new Set(['pid', 'hostname', 'component', 'connector', 'plugin', 'stream', 'truncated', 'childFields']);

type Fields = Record<string, unknown>;

/**
 * One line a child wrote, as one NDJSON line of the host's log stream. A stdout line that is a JSON object (the
 * SDK's pino output) is parsed and re-emitted inside the host's envelope: `level` (a number), `time` (a number)
 * and `msg` (a string) are the child's when well-typed, the other fields follow, and colliding ones go under
 * `childFields`. Anything else (stderr, text, a JSON value that is not an object, broken JSON, a line cut at the
 * limit) is wrapped as the `msg` string with its `stream`.
 */
export function relayedLine(envelope: ChildEnvelope, stream: 'stdout' | 'stderr', line: string, truncated: boolean): string {
  const fields = stream === 'stdout' && !truncated ? parseObject(line) : undefined;
  return fields ? enveloped(envelope, fields) : wrappedLine(envelope, stream, line, truncated);
}

function parseObject(line: string): Fields | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : undefined;
  } catch {
    return undefined;
  }
}

function enveloped(envelope: ChildEnvelope, fields: Fields): string {
  // Null-prototype objects: a "__proto__" key of the child's stays a plain key.
  const rest: Fields = Object.create(null) as Fields;
  const childFields: Fields = Object.create(null) as Fields;
  let level = INFO;
  let time = Date.now();
  let msg: string | undefined;
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'level' && typeof value === 'number' && Number.isFinite(value)) level = value;
    else if (key === 'time' && typeof value === 'number' && Number.isFinite(value)) time = value;
    else if (key === 'msg' && typeof value === 'string') msg = value;
    else if (key === 'level' || key === 'time' || key === 'msg') childFields[key] = value;
    else if (HOST_KEYS.has(key)) {
      if (value !== (envelope as unknown as Fields)[key]) childFields[key] = value;
    } else rest[key] = value;
  }
  return JSON.stringify({
    level,
    time,
    pid: envelope.pid,
    connector: envelope.connector,
    plugin: envelope.plugin,
    ...rest,
    ...(Object.keys(childFields).length > 0 ? { childFields } : {}),
    ...(msg !== undefined ? { msg } : {}),
  });
}

function wrappedLine(envelope: ChildEnvelope, stream: 'stdout' | 'stderr', line: string, truncated: boolean): string {
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
