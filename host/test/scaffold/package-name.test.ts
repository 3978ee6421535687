import { describe, expect, test } from 'vitest';
import { packageNameProblems } from '../../src/scaffold/package-name.js';

describe('packageNameProblems (npm rules for a new package name)', () => {
  test.each(['danube-source-files', '@acme/danube-source-files', 'a', 'x.y_z-1', '@a-b/c.d'])('%s is fine', (name) => {
    expect(packageNameProblems(name)).toEqual([]);
  });

  test.each([
    ['', ['the name is empty']],
    ['My-Plugin', ['the name "My-Plugin" has upper-case letters (M P); npm names are lower case']],
    ['@Acme/files', ['the scope "@Acme" has upper-case letters (A); npm names are lower case']],
    ['@acme/Files', ['the name "Files" after the scope has upper-case letters (F); npm names are lower case']],
    ['.hidden', ['the name ".hidden" starts with "."']],
    ['_private', ['the name "_private" starts with "_"']],
    ['my plugin', ['the name "my plugin" has characters npm does not allow in a name (" "); use a-z, 0-9, "-", "." and "_"']],
    ['files!', ['the name "files!" has characters npm does not allow in a name ("!"); use a-z, 0-9, "-", "." and "_"']],
    ['@acme', ['"@acme" has a scope but no "/<name>" after it (e.g. @acme/danube-source-x)']],
    ['@acme/', ['the name after "@acme/" is empty']],
    ['@/files', ['the scope after "@" is empty']],
    ['@acme/a/b', ['the name "a/b" after the scope has characters npm does not allow in a name ("/"); use a-z, 0-9, "-", "." and "_"']],
    ['fs', ['"fs" is a Node.js core module name']],
    ['node_modules', ['"node_modules" is a name npm reserves']],
    ['a'.repeat(215), ['the name is 215 characters long; npm allows at most 214']],
  ])('%j: %j', (name, problems) => {
    expect(packageNameProblems(name)).toEqual(problems);
  });
});
