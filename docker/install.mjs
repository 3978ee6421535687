// Installs the danube-connect host and the chosen plugins from `npm run pack` tarballs into an empty folder, with
// production dependencies only (`npm i --omit=dev`): the install step of the Docker image (Dockerfile), run as it
// is by test/container-install.test.ts, since no image can be built where the tests run.
//
//   node docker/install.mjs <tarball-dir> <prefix> [plugin-package ...]
//
// Without plugin names, every @danube-plugin/* tarball in <tarball-dir> is installed. Our own libraries the chosen
// packages depend on (@danube-connect/sdk, @danube-connect/mqtt) come from the tarballs as well, since they are not
// on the public registry yet; the test kit (@danube-connect/testing, an optional peer of the host) stays out.
// Third-party dependencies install from the registry as usual. The chosen tarballs are kept in <prefix>/packs, so
// package.json's `file:packs/...` entries stay valid and a later `npm i <plugin>` in <prefix> (an image built
// FROM this one) keeps what is installed. healthcheck.mjs is copied beside node_modules.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HOST = '@danube-connect/host';

function fail(message) {
  process.stderr.write(`install.mjs: ${message}\n`);
  process.exit(1);
}

const [packsArg, prefixArg, ...plugins] = process.argv.slice(2);
if (!packsArg || !prefixArg) {
  process.stderr.write('usage: node install.mjs <tarball-dir> <prefix> [plugin-package ...]\n');
  process.exit(64);
}
const packs = resolve(packsArg);
const prefix = resolve(prefixArg);
if (existsSync(prefix) && readdirSync(prefix).length > 0) fail(`${prefix} is not empty: install into a clean folder`);

/** Every tarball's package.json, by package name (npm pack puts the package under package/). */
const tarballs = new Map();
for (const file of readdirSync(packs).filter((f) => f.endsWith('.tgz'))) {
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', join(packs, file), 'package/package.json'], { encoding: 'utf8' }));
  tarballs.set(manifest.name, { file: join(packs, file), manifest });
}

const wanted = plugins.length > 0 ? plugins : [...tarballs.keys()].filter((name) => name.startsWith('@danube-plugin/')).sort();
/** The tarballs to install: the host, the plugins, and every dependency or required peer that has a tarball here. */
const chosen = new Map();
const choose = (name, neededBy) => {
  if (chosen.has(name)) return;
  const entry = tarballs.get(name);
  if (!entry) fail(`no tarball of ${name}${neededBy ? ` (needed by ${neededBy})` : ''} in ${packs}; found: ${[...tarballs.keys()].sort().join(', ') || 'none'}`);
  chosen.set(name, entry);
  const { dependencies = {}, peerDependencies = {}, peerDependenciesMeta = {} } = entry.manifest;
  const required = [...Object.keys(dependencies), ...Object.keys(peerDependencies).filter((peer) => peerDependenciesMeta[peer]?.optional !== true)];
  for (const dependency of required) if (tarballs.has(dependency)) choose(dependency, name);
};
choose(HOST);
for (const plugin of wanted) {
  const entry = tarballs.get(plugin);
  if (entry && !entry.manifest['danube-connect']) fail(`${plugin} is not a danube-connect plugin (its package.json has no "danube-connect" manifest)`);
  choose(plugin);
}

mkdirSync(join(prefix, 'packs'), { recursive: true });
writeFileSync(join(prefix, 'package.json'), `${JSON.stringify({ name: 'danube-connect-install', private: true, type: 'module' }, null, 2)}\n`);
const kept = [...chosen.values()].map(({ file }) => {
  copyFileSync(file, join(prefix, 'packs', basename(file)));
  return `./packs/${basename(file)}`;
});
execFileSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--no-update-notifier', '--loglevel=error', ...kept], { cwd: prefix, stdio: ['ignore', 'inherit', 'inherit'] });
copyFileSync(join(dirname(fileURLToPath(import.meta.url)), 'healthcheck.mjs'), join(prefix, 'healthcheck.mjs'));
for (const [name, { manifest }] of chosen) process.stdout.write(`installed ${name}@${manifest.version}\n`);
