/** Names npm itself refuses. */
const EXCLUDED = new Set(['node_modules', 'favicon.ico']);

const SCOPED = /^@([^/]+)\/([^/]+)$/;

/**
 * Why `name` is not an npm package name, or undefined when it is one: npm's rules for names that may exist
 * (validate-npm-package-name's `validForOldPackages`: legacy names with capitals still resolve), including
 * that a scoped name has exactly one `/` and that its package part does not start with a period. So a name
 * can never climb out of node_modules (`@scope/../../x`, `@scope/..`, `..\x`).
 */
export function packageNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'name length must be greater than zero';
  if (name.startsWith('.')) return 'name cannot start with a period';
  if (name.startsWith('_')) return 'name cannot start with an underscore';
  if (name.trim() !== name) return 'name cannot contain leading or trailing spaces';
  if (EXCLUDED.has(name.toLowerCase())) return `${name} is not a valid package name`;
  if (encodeURIComponent(name) === name) return undefined;
  const scoped = SCOPED.exec(name);
  if (scoped) {
    const [, scope, pkg] = scoped as unknown as [string, string, string];
    if (pkg.startsWith('.')) return 'name cannot start with a period';
    if (encodeURIComponent(scope) === scope && encodeURIComponent(pkg) === pkg) return undefined;
  }
  return 'name can only contain URL-friendly characters';
}
