import { readFileSync } from 'node:fs';
import { TomlError, parse } from 'smol-toml';
import type { ProblemList } from './config-problem.js';

/** Reads and parses host.toml; a read or syntax error becomes a problem naming the file, line and column. */
export function readToml(absolutePath: string, problems: ProblemList): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(absolutePath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    problems.add('DC_ERR_HOST_FILE', [], `cannot be read (${code})`);
    return undefined;
  }
  try {
    return parse(text) as Record<string, unknown>;
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    // smol-toml's message is "Invalid TOML document: <what>\n\n<code block>"; keep the first line's reason.
    const reason = err.message.replace(/^Invalid TOML document: /, '').split('\n')[0] ?? err.message;
    problems.add('DC_ERR_TOML_SYNTAX', [], `line ${err.line}, column ${err.column}: invalid TOML: ${reason}`);
    return undefined;
  }
}
