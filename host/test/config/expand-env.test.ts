import { describe, expect, test } from 'vitest';
import { ProblemList, formatProblem } from '../../src/config/config-problem.js';
import { applyDanubeEnvOverrides, expandEnv } from '../../src/config/expand-env.js';

function expand(doc: Record<string, unknown>, env: NodeJS.ProcessEnv) {
  const problems = new ProblemList('host.toml', doc);
  const failed = expandEnv(doc, env, problems);
  return { doc, failed: [...failed], problems: problems.problems.map(formatProblem) };
}

describe('expandEnv', () => {
  test('expands in string values at any depth, arrays included; keys and non-strings are left alone', () => {
    const doc = { a: '${X}', list: ['${X}-${Y:-y}', 3], nested: { '${X}': true, deep: [{ v: 'pre ${X} post' }] } };
    expect(expand(doc, { X: 'x' })).toEqual({
      doc: { a: 'x', list: ['x-y', 3], nested: { '${X}': true, deep: [{ v: 'pre x post' }] } },
      failed: [],
      problems: [],
    });
  });

  test(':- applies to unset and empty variables; a set-but-empty variable without default expands to ""', () => {
    expect(expand({ a: '${E:-d}', b: '${U:-d}', c: '[${E}]', d: '${U:-}' }, { E: '' }).doc).toEqual({ a: 'd', b: 'd', c: '[]', d: '' });
  });

  test('$${ is a literal ${ and a lone $ stays', () => {
    expect(expand({ a: 'cost $5 $${X} $$' }, { X: 'no' }).doc).toEqual({ a: 'cost $5 ${X} $$' });
  });

  test('unset variables and malformed references are problems naming the key path; the connector is named', () => {
    const doc = { connectors: [{ name: 'iot', config: { routes: [{ to: '/${NS}/t' }] } }], host: { http: '${HOST' } };
    expect(expand(doc, {})).toEqual({
      doc: { connectors: [{ name: 'iot', config: { routes: [{ to: '//t' }] } }], host: { http: '' } },
      failed: ['connectors/0/config/routes/0/to', 'host/http'],
      problems: [
        'host.toml: host/http has a malformed variable reference "${HOST"; expected ${NAME} or ${NAME:-default} (write $${ for a literal ${)',
        'host.toml: connector "iot": config/routes/0/to uses ${NS} but the environment variable NS is not set (give a default with ${NS:-default})',
      ],
    });
  });

  test("a malformed reference in a secret key's value is not quoted", () => {
    expect(expand({ danube: { token: '${tok en}' } }, {}).problems).toEqual([
      'host.toml: danube/token has a malformed variable reference; expected ${NAME} or ${NAME:-default} (write $${ for a literal ${)',
    ]);
  });
});

describe('applyDanubeEnvOverrides', () => {
  test('sets [danube] service_url and token from the environment, creating the table', () => {
    const doc: Record<string, unknown> = {};
    const applied = applyDanubeEnvOverrides(doc, { DANUBE_SERVICE_URL: 'http://e:1', DANUBE_TOKEN: 't' });
    expect(doc).toEqual({ danube: { service_url: 'http://e:1', token: 't' } });
    expect([...applied]).toEqual([
      ['service_url', 'DANUBE_SERVICE_URL'],
      ['token', 'DANUBE_TOKEN'],
    ]);
  });
});

describe('${file:/path} (Docker and Kubernetes secrets)', () => {
  test('reads the file (relative to host.toml), trims the trailing newline, and reports the value as a secret', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'dc-file-'));
    writeFileSync(join(dir, 'pw'), 'S3CRET-from-file\n');
    writeFileSync(join(dir, 'crlf'), 'two\r\nlines\r\n');
    const doc = { a: { password: '${file:pw}' }, b: `x-\${file:${join(dir, 'crlf')}}` };
    const problems = new ProblemList('host.toml', doc);
    const fileSecrets: string[] = [];
    expandEnv(doc, {}, problems, { dir, fileSecrets });
    expect(doc).toEqual({ a: { password: 'S3CRET-from-file' }, b: 'x-two\r\nlines' });
    expect(fileSecrets.sort()).toEqual(['S3CRET-from-file', 'two\r\nlines']);
    expect(problems.problems).toEqual([]);
  });

  test('an unreadable, non-regular or oversized file is a problem naming the key path and the file', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'dc-file-'));
    writeFileSync(join(dir, 'big'), Buffer.alloc(1024 * 1024 + 1, 'a'));
    const doc = { connectors: [{ name: 'iot', config: { password: '${file:/nonexistent/pw}', token: '${file:/dev/urandom}', key: '${file:big}' } }] };
    const problems = new ProblemList('host.toml', doc);
    const failed = expandEnv(doc, {}, problems, { dir, fileSecrets: [] });
    expect(problems.problems.map(formatProblem)).toEqual([
      'host.toml: connector "iot": config/password uses ${file:/nonexistent/pw} but the file cannot be read (ENOENT)',
      'host.toml: connector "iot": config/token uses ${file:/dev/urandom} but /dev/urandom is not a regular file',
      `host.toml: connector "iot": config/key uses \${file:big} but ${join(dir, 'big')} is larger than 1 MiB`,
    ]);
    expect([...failed]).toEqual(['connectors/0/config/password', 'connectors/0/config/token', 'connectors/0/config/key']);
  });
});
