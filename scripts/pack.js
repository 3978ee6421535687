// `npm run pack [-- <folder>]`: the tarball of every publishable package of this repository (`npm pack` of each
// workspace that is not private), written to <folder> (default ./packs). Until the packages are on the public
// registry, this is how they are installed elsewhere (`npm i <folder>/*.tgz`), and what the install, registry and
// container tests start from. Run after `npm run build`: a tarball carries dist/ as it is.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Workspace folders (relative to the root) of every package that is not private, in the root's workspace order. */
export function publishableWorkspaces() {
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  return root.workspaces
    .flatMap((pattern) => (pattern.endsWith('/*') ? readdirSync(join(ROOT, pattern.slice(0, -2))).sort().map((d) => `${pattern.slice(0, -2)}/${d}`) : [pattern]))
    .filter((folder) => {
      try {
        return JSON.parse(readFileSync(join(ROOT, folder, 'package.json'), 'utf8')).private !== true;
      } catch {
        return false; // not a package folder
      }
    });
}

/**
 * Packs every publishable workspace into `destination`, after removing the tarballs already there (an older
 * version's tarball beside the new one would make `npm i <folder>/*.tgz` install both); returns the tarball paths
 * by package name.
 */
export function packAll(destination) {
  mkdirSync(destination, { recursive: true });
  for (const file of readdirSync(destination).filter((f) => f.endsWith('.tgz'))) rmSync(join(destination, file));
  const args = ['pack', '--json', '--pack-destination', destination, ...publishableWorkspaces().flatMap((w) => ['-w', w])];
  const packed = JSON.parse(execFileSync('npm', [...args, '--loglevel=error'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
  return new Map(packed.map((entry) => [entry.name, join(destination, entry.filename)]));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const destination = resolve(process.argv[2] ?? join(ROOT, 'packs'));
  for (const [name, file] of packAll(destination)) console.log(`${name.padEnd(30)} ${file}`);
}
