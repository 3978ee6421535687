import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { TomlError, parse } from 'smol-toml';
import type { KeyPath, ProblemList } from './config-problem.js';

/** host.toml bigger than this is a mistake (a log file, a device): refused before it is read, bytes. */
const MAX_HOST_TOML_BYTES = 1024 * 1024;
/** Deepest nesting of tables and arrays the host walks (its checks recurse); deeper is refused. */
const MAX_DEPTH = 64;

/** The file's text, or why it cannot be read: never a device, a FIFO or a huge file (each would hang or exhaust memory). */
function readRegularFile(absolutePath: string, problems: ProblemList): string | undefined {
  let fd: number;
  try {
    fd = openSync(absolutePath, 'r');
  } catch (err) {
    problems.add('DC_ERR_HOST_FILE', [], `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`);
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      problems.add('DC_ERR_HOST_FILE', [], 'is not a regular file');
      return undefined;
    }
    if (stat.size > MAX_HOST_TOML_BYTES) {
      problems.add('DC_ERR_HOST_FILE', [], `is larger than 1 MiB (${stat.size} bytes)`);
      return undefined;
    }
    const buffer = Buffer.alloc(stat.size);
    const read = readSync(fd, buffer, 0, stat.size, 0);
    return buffer.subarray(0, read).toString('utf8');
  } catch (err) {
    problems.add('DC_ERR_HOST_FILE', [], `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`);
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The key path of the first value nested deeper than MAX_DEPTH (walked without recursion), or undefined. */
function tooDeep(doc: Record<string, unknown>): KeyPath | undefined {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: doc, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop() as { value: unknown; path: (string | number)[] };
    if (value === null || typeof value !== 'object' || value instanceof Date) continue;
    if (path.length > MAX_DEPTH) return path;
    const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    for (const [key, child] of entries) stack.push({ value: child, path: [...path, key] });
  }
  return undefined;
}

/**
 * Reads and parses host.toml; a read or syntax error becomes a problem naming the file, line and column. A file
 * that is not regular or is larger than 1 MiB, and a document nested more than 64 levels deep, are problems too.
 */
export function readToml(absolutePath: string, problems: ProblemList): Record<string, unknown> | undefined {
  const text = readRegularFile(absolutePath, problems);
  if (text === undefined) return undefined;
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    // smol-toml's message is "Invalid TOML document: <what>\n\n<code block>"; keep the first line's reason.
    const reason = err.message.replace(/^Invalid TOML document: /, '').split('\n')[0] ?? err.message;
    problems.add('DC_ERR_TOML_SYNTAX', [], `line ${err.line}, column ${err.column}: invalid TOML: ${reason}`);
    return undefined;
  }
  const deep = tooDeep(doc);
  if (deep) {
    // Named by the connector when there is one; the path is cut short after 5 keys (it is as long as the nesting).
    const connectorDepth = deep[0] === 'connectors' ? 2 : 0;
    problems.useDocument(doc).add('DC_ERR_TOML_SYNTAX', deep.slice(0, connectorDepth + 5), `nests tables more than ${MAX_DEPTH} levels deep (the most the host reads); flatten it`);
    return undefined;
  }
  return doc;
}
