import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { validateHost } from '../src/validate-host.js';
import { tempProject, type TempProject } from './temp-project.js';

/** A fresh self-signed certificate as PEM (each call a different one). */
function certificate(p: TempProject, name: string): string {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`, '-days', '1', '-keyout', p.path(`${name}.key`), '-out', p.path(`${name}.pem`)], { stdio: 'ignore' });
  return readFileSync(p.path(`${name}.pem`), 'utf8');
}

const TOML = `
[[connectors]]
name = "tls"
plugin = "@fixtures/plain-sink"
[connectors.danube]
service_url = "https://broker:6650"
[connectors.danube.tls]
ca = "ca.pem"

[[connectors]]
name = "plain"
plugin = "@fixtures/plain-sink"
`;

function fingerprints(p: TempProject): Record<string, string> {
  const result = validateHost(p.path('host.toml'), { env: {} });
  if (!result.ok) throw new Error(result.problems.map((problem) => problem.message).join('\n'));
  return Object.fromEntries(result.connectors.map((c) => [c.name, c.fingerprint]));
}

describe('validateHost: TLS files', () => {
  test('a TLS file is part of the fingerprint by content: a rotated CA changes only the connector that uses it', () => {
    const p = tempProject({ 'host.toml': TOML }, ['plain-sink']);
    writeFileSync(p.path('ca.pem'), certificate(p, 'first'));
    const before = fingerprints(p);
    expect(fingerprints(p)).toEqual(before);
    writeFileSync(p.path('ca.pem'), certificate(p, 'second'));
    const after = fingerprints(p);
    expect(after['plain']).toBe(before['plain']);
    expect(after['tls']).not.toBe(before['tls']);
  });
});
