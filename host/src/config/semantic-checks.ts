import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseBrokerUrl, validateTopicName } from '@danube-connect/sdk/core';
import { isSecretPath, joinPath, type KeyPath, type ProblemList } from './config-problem.js';

type Table = Record<string, unknown>;

const asTable = (value: unknown): Table | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date) ? (value as Table) : undefined;

export interface SemanticContext {
  problems: ProblemList;
  /** host.toml's folder: relative TLS paths are resolved against it. */
  dir: string;
  /** Paths already reported (unset ${VAR}): not checked again. */
  skip: ReadonlySet<string>;
  /** `[danube]` keys set from the environment, with the variable's name, for messages. */
  fromEnv: ReadonlyMap<string, string>;
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(\d{1,5})$/;

/** Parses `host:port` (IPv6 in brackets; port 0 = any free port), or undefined when it is not one. */
export function parseHostPort(address: string): { host: string; port: number } | undefined {
  const match = HOST_PORT.exec(address);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port > 65535) return undefined;
  return { host: (match[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port };
}

/**
 * TOML's nan and ±inf fit no setting; each is one problem (not ajv's type, minimum and maximum at once), and its
 * path joins `skip` so no later check reports it again.
 */
export function reportNonFiniteNumbers(doc: Table, problems: ProblemList, skip: Set<string>): void {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: doc, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop() as { value: unknown; path: (string | number)[] };
    if (typeof value === 'number' && !Number.isFinite(value)) {
      problems.add('DC_ERR_CONFIG_SCHEMA', path, `must be a finite number, got ${Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf'}`);
      skip.add(joinPath(path));
    } else if (Array.isArray(value) || asTable(value)) {
      // Pushed in reverse, so problems come out in document order.
      const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value as Table);
      for (const [key, child] of entries.reverse()) stack.push({ value: child, path: [...path, key] });
    }
  }
}

/**
 * The checks JSON Schema cannot express: unique connector names, the HTTP address, broker URLs, topic names,
 * readable TLS files and contradicting settings. Runs on a document that may have schema errors, so every value
 * is type-checked before use.
 */
export function checkSemantics(doc: Table, ctx: SemanticContext): void {
  const host = asTable(doc['host']);
  const http = host?.['http'];
  if (typeof http === 'string' && !ctx.skip.has('host/http') && parseHostPort(http) === undefined) {
    ctx.problems.add('DC_ERR_INVALID_ADDRESS', ['host', 'http'], `"${http}" is not a host:port address (e.g. "127.0.0.1:9464", port 0 for any free port)`);
  }
  const hostRestart = asTable(host?.['restart']);
  checkRestart(hostRestart, hostRestart, ['host', 'restart'], ctx);

  const danube = asTable(doc['danube']);
  checkDanube(danube, ['danube'], ctx);
  if (danube?.['create_namespaces'] === true && danube['admin_url'] === undefined) {
    ctx.problems.add('DC_ERR_CONFIG_CONFLICT', ['danube', 'create_namespaces'], 'is true but danube/admin_url is not set (namespaces are created through the admin API)');
  }
  checkTlsPair(asTable(danube?.['tls']), ['danube', 'tls'], ctx);

  const connectors = Array.isArray(doc['connectors']) ? doc['connectors'] : [];
  const firstByName = new Map<string, number>();
  connectors.forEach((entry, index) => {
    const connector = asTable(entry);
    if (!connector) return;
    const base: KeyPath = ['connectors', index];
    const name = connector['name'];
    if (typeof name === 'string') {
      const first = firstByName.get(name);
      if (first === undefined) firstByName.set(name, index);
      else ctx.problems.add('DC_ERR_DUPLICATE_CONNECTOR', [...base, 'name'], `"${name}" is already used by connectors/${first}; connector names must be unique`, { byIndex: true });
    }
    const own = asTable(connector['danube']);
    checkDanube(own, [...base, 'danube'], ctx);
    const tls = own?.['tls'] !== undefined ? { table: asTable(own['tls']), path: [...base, 'danube', 'tls'] } : { table: asTable(danube?.['tls']), path: undefined };
    if (tls.path) checkTlsPair(tls.table, tls.path, ctx);
    checkRestart(asTable(connector['restart']), { ...hostRestart, ...asTable(connector['restart']) }, [...base, 'restart'], ctx);
    checkProcessing(asTable(connector['processing']), [...base, 'processing'], ctx);
  });
}

function checkDanube(danube: Table | undefined, base: KeyPath, ctx: SemanticContext): void {
  if (!danube) return;
  for (const key of ['service_url', 'admin_url']) {
    const url = danube[key];
    const path = [...base, key];
    if (typeof url !== 'string' || ctx.skip.has(joinPath(path))) continue;
    const what = joinPath(path);
    try {
      parseBrokerUrl(url, what);
    } catch (err) {
      // parseBrokerUrl's message starts with `<what> "<url>" is invalid: …`; the problem's path already names it.
      const message = (err as Error).message.slice(what.length + 1);
      const variable = base.length === 1 ? ctx.fromEnv.get(key) : undefined;
      ctx.problems.add('DC_ERR_INVALID_URL', path, variable ? `${message} (set by the environment variable ${variable})` : message);
    }
  }
  const tls = asTable(danube['tls']);
  if (!tls) return;
  for (const key of ['ca', 'cert', 'key']) {
    const value = tls[key];
    const path = [...base, 'tls', key];
    if (typeof value !== 'string' || ctx.skip.has(joinPath(path))) continue;
    const kind = key === 'key' ? 'private key' : 'certificate';
    const expected = key === 'key' ? PRIVATE_KEY_BLOCK : CERTIFICATE_BLOCK;
    if (value.includes('-----BEGIN')) {
      if (!hasPemBlock(value, kind)) ctx.problems.add('DC_ERR_TLS_FILE', path, `is inline text without a complete PEM ${kind} (${expected})`);
      continue;
    }
    const file = isAbsolute(value) ? value : resolve(ctx.dir, value);
    // A secret key's value (tls.key) is never printed, not even as a path.
    const secret = isSecretPath(path);
    const read = readTlsFile(file);
    if ('problem' in read) {
      ctx.problems.add('DC_ERR_TLS_FILE', path, `names ${secret ? 'the file' : `file "${file}"`}, which cannot be read (${read.problem})`);
    } else if (!hasPemBlock(read.text, kind)) {
      ctx.problems.add('DC_ERR_TLS_FILE', path, secret ? `names a file that holds no PEM ${kind} (${expected})` : `file "${file}" holds no PEM ${kind} (${expected})`);
    }
  }
}

const CERTIFICATE_BLOCK = '-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----';
const PRIVATE_KEY_BLOCK = '-----BEGIN … PRIVATE KEY----- … -----END … PRIVATE KEY-----';
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
/** A CA bundle is a few hundred KiB; more is not a PEM file. */
const MAX_TLS_FILE_BYTES = 4 * 1024 * 1024;

/**
 * Whether `text` holds a complete PEM block of that kind with a base64 body (RFC 7468; legacy `Proc-Type:`
 * headers allowed). A DER file, a typo'd path written inline or a truncated paste fails here instead of leaving
 * the connector "Danube unavailable" at the handshake.
 */
function hasPemBlock(text: string, kind: 'certificate' | 'private key'): boolean {
  for (const [, label = '', body = ''] of text.matchAll(PEM_BLOCK)) {
    const fits = kind === 'certificate' ? label === 'CERTIFICATE' || label === 'TRUSTED CERTIFICATE' : label.endsWith('PRIVATE KEY');
    const base64 = body
      .split(/\r?\n/)
      .filter((line) => !line.includes(':'))
      .join('');
    if (fits && base64.length > 0 && /^[A-Za-z0-9+/=\s]+$/.test(base64)) return true;
  }
  return false;
}

function readTlsFile(file: string): { text: string } | { problem: string } {
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return { problem: 'not a file' };
    if (stat.size > MAX_TLS_FILE_BYTES) return { problem: 'larger than 4 MiB' };
    return { text: readFileSync(file, 'utf8') };
  } catch (err) {
    return { problem: (err as NodeJS.ErrnoException).code ?? 'unreadable' };
  }
}


function checkTlsPair(tls: Table | undefined, base: KeyPath, ctx: SemanticContext): void {
  if (!tls) return;
  const hasCert = tls['cert'] !== undefined;
  const hasKey = tls['key'] !== undefined;
  if (hasCert !== hasKey) {
    ctx.problems.add('DC_ERR_TLS_FILE', base, `sets ${hasCert ? 'cert' : 'key'} without ${hasCert ? 'key' : 'cert'}; mutual TLS needs both`);
  }
}

function checkRestart(own: Table | undefined, effective: Table | undefined, base: KeyPath, ctx: SemanticContext): void {
  if (!own || !effective) return;
  const initial = effective['initial_delay_ms'];
  const max = effective['max_delay_ms'];
  if (typeof initial === 'number' && typeof max === 'number' && initial > max) {
    if (own['initial_delay_ms'] !== undefined) {
      ctx.problems.add('DC_ERR_CONFIG_CONFLICT', [...base, 'initial_delay_ms'], `must be <= max_delay_ms (${max}), got ${initial}`);
    } else {
      ctx.problems.add('DC_ERR_CONFIG_CONFLICT', [...base, 'max_delay_ms'], `must be >= initial_delay_ms (${initial}), got ${max}`);
    }
  }
}

function checkProcessing(processing: Table | undefined, base: KeyPath, ctx: SemanticContext): void {
  if (!processing) return;
  const topic = processing['dead_letter_topic'];
  const topicPath = [...base, 'dead_letter_topic'];
  if (typeof topic === 'string' && !ctx.skip.has(joinPath(topicPath))) {
    try {
      validateTopicName(topic, 'dead-letter topic');
    } catch (err) {
      ctx.problems.add('DC_ERR_INVALID_TOPIC', topicPath, `is invalid: ${(err as Error).message}`);
    }
  }
  if (processing['on_retry_exhausted'] === 'dead_letter' && topic === undefined) {
    ctx.problems.add('DC_ERR_CONFIG_CONFLICT', [...base, 'on_retry_exhausted'], 'is "dead_letter" but processing/dead_letter_topic is not set');
  }
  const initial = processing['retry_initial_delay_ms'];
  const max = processing['retry_max_delay_ms'];
  if (typeof initial === 'number' && typeof max === 'number' && initial > max) {
    ctx.problems.add('DC_ERR_CONFIG_CONFLICT', [...base, 'retry_initial_delay_ms'], `must be <= retry_max_delay_ms (${max}), got ${initial}`);
  }
}
