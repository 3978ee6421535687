import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTlsMaterial } from '../src/tls-material.js';

const dir = mkdtempSync(join(tmpdir(), 'dc-mqtt-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('loadTlsMaterial', () => {
  it('reads PEM files and takes inline PEM as is', () => {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, PEM);
    const material = loadTlsMaterial({ ca, cert: PEM, key: PEM.replace(/CERTIFICATE/g, 'PRIVATE KEY'), servername: 'broker' });
    expect(material.ca?.toString()).toBe(PEM);
    expect(material.cert?.toString()).toBe(PEM);
    expect(material.key?.toString()).toContain('BEGIN PRIVATE KEY');
    expect(material).toMatchObject({ rejectUnauthorized: true, servername: 'broker' });
    expect(loadTlsMaterial({ reject_unauthorized: false }).rejectUnauthorized).toBe(false);
  });

  it('names the key and the path of an unreadable file', () => {
    const missing = join(dir, 'missing.pem');
    expect(() => loadTlsMaterial({ ca: missing })).toThrow(`tls.ca: cannot read the file ${missing} (ENOENT)`);
    expect(() => loadTlsMaterial({ ca: missing })).toThrow(expect.objectContaining({ code: 'DC_ERR_MQTT_TLS', kind: 'fatal' }));
  });

  it('names the key of a file that is not PEM, without quoting its content', () => {
    const der = join(dir, 'key.der');
    writeFileSync(der, Buffer.from([0x30, 0x82, 0x01, 0x0a, 0x53, 0x45, 0x43, 0x52, 0x45, 0x54]));
    let message = '';
    try {
      loadTlsMaterial({ cert: PEM, key: der });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(`tls.key: the file ${der} is not PEM (no "-----BEGIN" line); convert DER with openssl x509 -inform der`);
    expect(message).not.toContain('SECRET');
  });
});
