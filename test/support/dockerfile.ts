// Just enough of the Dockerfile grammar to run an image's steps without building it: instructions with their
// continuation lines joined, build stages, ARG defaults, RUN flags, ENV pairs and exec-form (JSON array) commands.
// test/container-install.test.ts runs what it reads, so the Dockerfile and the scripts it calls cannot drift.

export interface Instruction {
  keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  args: string;
  /** Index of the build stage (each FROM starts one). */
  stage: number;
}

export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const full = `${pending}${line}`.trim();
    pending = '';
    const match = /^(\S+)\s*(.*)$/s.exec(full);
    if (!match) continue;
    const keyword = (match[1] as string).toUpperCase();
    if (keyword === 'FROM') stage++;
    instructions.push({ keyword, args: match[2] as string, stage });
  }
  return instructions;
}

/** `--name=value` flags in front of a RUN or HEALTHCHECK, and the rest. */
export function splitFlags(args: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let rest = args.trim();
  for (let match = /^(--\S+)\s+/.exec(rest); match; match = /^(--\S+)\s+/.exec(rest)) {
    flags.push(match[1] as string);
    rest = rest.slice(match[0].length);
  }
  return { flags, rest };
}

/** `--mount=type=bind,from=build,source=/packs,target=/packs` as an object. */
export function mountOf(flag: string): Record<string, string> | undefined {
  if (!flag.startsWith('--mount=')) return undefined;
  return Object.fromEntries(flag.slice('--mount='.length).split(',').map((pair) => pair.split('=', 2) as [string, string]));
}

/** An exec-form command (`["node", "x.mjs"]`); throws on the shell form, which a HEALTHCHECK, ENTRYPOINT or CMD here must not use. */
export function execForm(args: string): string[] {
  const parsed = JSON.parse(args) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) throw new Error(`not an exec-form command: ${args}`);
  return parsed;
}

/** `KEY=value KEY2="quoted value"` of an ENV or ARG line; a bare `NAME` (an ARG without default) maps to undefined. */
export function pairsOf(args: string): Record<string, string | undefined> {
  const pairs: Record<string, string | undefined> = {};
  for (const match of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)(?:=(?:"([^"]*)"|(\S*)))?/g)) pairs[match[1] as string] = match[2] ?? match[3];
  return pairs;
}

/** Expands `$NAME` and `${NAME}` as Docker does in ENV, RUN (shell form) and ARG values. */
export function substitute(text: string, values: Record<string, string | undefined>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (match, braced: string | undefined, bare: string | undefined) => {
    const value = values[(braced ?? bare) as string];
    if (value === undefined) throw new Error(`${match} has no value`);
    return value;
  });
}
