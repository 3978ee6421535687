import { builtinModules } from 'node:module';

/** npm's limit on a package name, scope included. */
const MAX_LENGTH = 214;
/** Characters npm refuses in new package names even though they are URL-safe. */
const SPECIAL = /[~'!()*]/;

/**
 * What is wrong with `name` as the name of a new npm package (npm's rules, those of validate-npm-package-name
 * for new packages), one problem per entry naming the bad part; [] when it is fine. An `@scope/` prefix is
 * checked part by part. Stricter than discovery's `packageNameProblem`, which accepts the legacy names (capitals)
 * of packages that already exist.
 */
export function packageNameProblems(name: string): string[] {
  if (name.length === 0) return ['the name is empty'];
  const problems: string[] = [];
  if (name.length > MAX_LENGTH) problems.push(`the name is ${name.length} characters long; npm allows at most ${MAX_LENGTH}`);
  let parts: { label: string; value: string }[];
  if (name.startsWith('@')) {
    const slash = name.indexOf('/');
    if (slash < 0) return [...problems, `"${name}" has a scope but no "/<name>" after it (e.g. ${name}/danube-source-x)`];
    const scope = name.slice(1, slash);
    const rest = name.slice(slash + 1);
    if (scope.length === 0) problems.push('the scope after "@" is empty');
    if (rest.length === 0) problems.push(`the name after "@${scope}/" is empty`);
    parts = [
      { label: `the scope "@${scope}"`, value: scope },
      { label: `the name "${rest}" after the scope`, value: rest },
    ].filter((part) => part.value.length > 0);
  } else {
    parts = [{ label: `the name "${name}"`, value: name }];
    if (builtinModules.includes(name)) problems.push(`"${name}" is a Node.js core module name`);
    if (['node_modules', 'favicon.ico'].includes(name.toLowerCase())) problems.push(`"${name}" is a name npm reserves`);
  }
  for (const { label, value } of parts) {
    if (value.startsWith('.') || value.startsWith('_')) problems.push(`${label} starts with "${value[0]}"`);
    const upper = [...new Set(value.match(/[A-Z]/g) ?? [])];
    if (upper.length > 0) problems.push(`${label} has upper-case letters (${upper.join(' ')}); npm names are lower case`);
    const bad = [...new Set([...value].filter((c) => !/[A-Za-z]/.test(c) && (SPECIAL.test(c) || encodeURIComponent(c) !== c)))];
    if (bad.length > 0) problems.push(`${label} has characters npm does not allow in a name (${bad.map((c) => JSON.stringify(c)).join(' ')}); use a-z, 0-9, "-", "." and "_"`);
  }
  return problems;
}
