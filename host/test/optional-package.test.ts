import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect, it, onTestFinished } from 'vitest';
import { AEDES_MISSING, loadAedes } from '../src/dev/aedes-loader.js';
import { importOptional } from '../src/optional-package.js';
import { loadTestingKit, TESTING_KIT_MISSING, type TestingKit } from '../src/testing-kit.js';

// What `danube-connect dev` says when an optional package it embeds is not installed (the packed install of the
// host alone runs the real `dev` into this: test/packed-install.test.ts).

it('an optional package that is not installed is the install instruction, with the resolution error as its cause', async () => {
  const name = '@danube-connect/not-installed'; // installed nowhere
  const failed = importOptional(name, `install ${name}`, () => import(name));
  await expect(failed).rejects.toThrow(/^install @danube-connect\/not-installed$/);
  await expect(failed).rejects.toHaveProperty('cause.code', 'ERR_MODULE_NOT_FOUND');
});

it('a dependency missing inside an installed package is a broken install, thrown as it is', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-optional-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'node_modules/broken'), { recursive: true });
  writeFileSync(join(dir, 'node_modules/broken/package.json'), JSON.stringify({ name: 'broken', type: 'module', exports: './index.js' }));
  writeFileSync(join(dir, 'node_modules/broken/index.js'), "import 'its-missing-dependency';\n");
  const failed = importOptional('broken', 'install broken', () => import(pathToFileURL(join(dir, 'node_modules/broken/index.js')).href));
  await expect(failed).rejects.toThrow(/Cannot find package 'its-missing-dependency'/);
});

it('the messages name the package and how to install it; both load where installed (this workspace)', async () => {
  expect(TESTING_KIT_MISSING).toBe('install @danube-connect/testing (npm i -D @danube-connect/testing) to use danube-connect dev');
  expect(AEDES_MISSING).toBe('install aedes (npm i -D aedes@1) to use the MQTT broker danube-connect dev embeds');
  expect(typeof (await loadTestingKit()).TestBroker.start).toBe('function');
  expect(typeof (await loadAedes()).Aedes.createBroker).toBe('function');
});

it('the real test kit fits the TestingKit the host declares (checked by the typecheck), and the published types import no optional peer', async () => {
  const kit: TestingKit = await import('@danube-connect/testing');
  expect(typeof kit.TestBroker.start).toBe('function');
  const types = readFileSync(fileURLToPath(new URL('../dist/index.d.ts', import.meta.url)), 'utf8');
  for (const peer of ['@danube-connect/testing', 'aedes']) expect(types, peer).not.toMatch(new RegExp(`from ['"]${peer}['"]|import\\(['"]${peer}['"]\\)`));
});
