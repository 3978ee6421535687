import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadPlugin } from '../../src/plugin/load-plugin.js';
import { StartFailure } from '../../src/plugin/start-failure.js';

// Entries are written to temp dirs and brand themselves by hand with the global symbol, exactly what another
// copy of the SDK's definePlugin does: these cases need no build.
const BRAND = "Symbol.for('danube-connect.plugin')";

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dc-load-plugin-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeEntry(source: string, dir = tempDir()): string {
  const entry = join(dir, 'index.mjs');
  writeFileSync(entry, source);
  return entry;
}

async function failure(promise: Promise<unknown>): Promise<StartFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StartFailure);
  return err as StartFailure;
}

describe('loadPlugin', () => {
  it('returns the branded default export of the entry', async () => {
    const entry = writeEntry(`export default { kind: 'source', create: () => ({}), [${BRAND}]: 1 };`);
    const plugin = await loadPlugin(entry, 'source');
    expect(plugin.kind).toBe('source');
    expect(typeof plugin.create).toBe('function');
  });

  it('unwraps default twice (a CommonJS or double-transpiled build), never three times', async () => {
    const twice = writeEntry(`export default { default: { kind: 'sink', create: () => ({}), [${BRAND}]: 1 } };`);
    expect((await loadPlugin(twice)).kind).toBe('sink');
    const thrice = writeEntry(`export default { default: { default: { kind: 'sink', create: () => ({}), [${BRAND}]: 1 } } };`);
    expect((await failure(loadPlugin(thrice))).code).toBe('wrong_default_export');
  });

  it('names what the default export is when it is not a plugin', async () => {
    const plain = await failure(loadPlugin(writeEntry(`export default { kind: 'source', create() {} };`)));
    expect(plain.code).toBe('wrong_default_export');
    expect(plain.message).toMatch(/is not a definePlugin\(\.\.\.\) value: got an object without the definePlugin brand \(keys: kind, create\)$/);
    const missing = await failure(loadPlugin(writeEntry(`export const plugin = 1;`)));
    expect(missing.message).toMatch(/got undefined \(no default export\)$/);
    const factory = await failure(loadPlugin(writeEntry(`export default function makePlugin() {}`)));
    expect(factory.message).toMatch(/got a function \(makePlugin\); call definePlugin\(\{ kind, create \}\) and export its result$/);
  });

  it('says so when the default export is a Promise (an async factory or a top-level await result)', async () => {
    const entry = writeEntry(`export default Promise.resolve({ kind: 'source', create: () => ({}), [${BRAND}]: 1 });`);
    const promised = await failure(loadPlugin(entry));
    expect(promised.code).toBe('wrong_default_export');
    expect(promised.message).toBe(`the default export of ${entry} is not a definePlugin(...) value: got a Promise; export the definePlugin({ kind, create }) value itself, not a Promise of it (await inside create instead)`);
  });

  it('tells an incompatible plugin API version from a missing brand', async () => {
    const err = await failure(loadPlugin(writeEntry(`export default { kind: 'source', create() {}, [${BRAND}]: 2 };`)));
    expect(err.code).toBe('incompatible_plugin');
    expect(err.message).toMatch(/built for plugin API version 2; this SDK supports version 1$/);
  });

  it('reports an entry that cannot be imported, with the cause', async () => {
    const dir = tempDir();
    const absent = await failure(loadPlugin(join(dir, 'nope.js')));
    expect(absent.code).toBe('entry_import_failed');
    expect(absent.message).toContain(join(dir, 'nope.js'));
    expect(absent.message).toMatch(/ERR_MODULE_NOT_FOUND/);
    const throwing = await failure(loadPlugin(writeEntry(`throw new Error('boom at import');`)));
    expect(throwing.code).toBe('entry_import_failed');
    expect(throwing.message).toMatch(/Error: boom at import$/);
  });

  it('rejects a plugin of the other kind than expected', async () => {
    const entry = writeEntry(`export default { kind: 'source', create: () => ({}), [${BRAND}]: 1 };`);
    const err = await failure(loadPlugin(entry, 'sink'));
    expect(err.code).toBe('kind_mismatch');
    expect(err.message).toMatch(/the manifest declares kind "sink" but the entry .* exports a "source" plugin$/);
  });
});
