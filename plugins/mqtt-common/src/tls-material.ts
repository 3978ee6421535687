import { readFileSync } from 'node:fs';
import { ConnectorError } from '@danube-connect/sdk';

/** The `tls` block of the connection config. */
export interface TlsConfig {
  ca?: string;
  cert?: string;
  key?: string;
  reject_unauthorized?: boolean;
  servername?: string;
}

/** What MQTT.js (node:tls) takes. */
export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
}

const PEM_BEGIN = '-----BEGIN ';

/**
 * One PEM value: inline when it starts with a PEM header, else a file path read now. An unreadable file, or one
 * without a PEM block, is a config error naming the key and the path (never the content: a key is a secret).
 */
function pem(value: string, key: string): Buffer {
  if (value.trimStart().startsWith(PEM_BEGIN)) return Buffer.from(value, 'utf8');
  let content: Buffer;
  try {
    content = readFileSync(value);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw ConnectorError.fatal(`${key}: cannot read the file ${value} (${code}); give a readable PEM file or inline PEM`, { code: 'DC_ERR_MQTT_TLS', cause: err });
  }
  if (!content.includes(PEM_BEGIN)) {
    throw ConnectorError.fatal(`${key}: the file ${value} is not PEM (no "-----BEGIN" line); convert DER with openssl x509 -inform der`, { code: 'DC_ERR_MQTT_TLS' });
  }
  return content;
}

/** Reads the TLS files (or inline PEM) of `tls`, under the key prefix `base` for messages (`tls`). */
export function loadTlsMaterial(tls: TlsConfig | undefined, base = 'tls'): TlsMaterial {
  const material: TlsMaterial = { rejectUnauthorized: tls?.reject_unauthorized ?? true };
  if (!tls) return material;
  if (tls.ca !== undefined) material.ca = pem(tls.ca, `${base}.ca`);
  if (tls.cert !== undefined) material.cert = pem(tls.cert, `${base}.cert`);
  if (tls.key !== undefined) material.key = pem(tls.key, `${base}.key`);
  if (tls.servername !== undefined) material.servername = tls.servername;
  return material;
}
