/**
 * The one list of config keys whose values are secret. It drives pino's log redaction in every child and
 * the host's config masking (printed config, /connectors), so a key added here is hidden everywhere.
 * Matching is case-insensitive on the key alone, at any depth.
 */
export const SECRET_KEYS: readonly string[] = Object.freeze([
  'password',
  'passwd',
  'passphrase',
  'token',
  'secret',
  'key',
  'api_key',
  'apikey',
  'private_key',
  'privatekey',
  'client_secret',
  'authorization',
  'credentials',
]);

const SECRET = new Set(SECRET_KEYS);
export const MASK = '***';

export function isSecretKey(key: string): boolean {
  return SECRET.has(key.toLowerCase());
}

/** A deep copy of `value` with every secret key's value replaced by `***` (set values only: absent stays absent). */
export function maskSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v)) as T;
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = isSecretKey(k) && v !== undefined && v !== null && v !== '' ? MASK : maskSecrets(v);
  }
  return out as T;
}
