import { DanubeError } from './errors.js';

export interface BrokerAddress {
  /** `host:port` as grpc-js dials it (the broker's URLs carry a scheme that must be stripped, docs/danube-protocol.md §2.2). */
  target: string;
  /** True for https:// URLs, which the broker hands out when its auth mode is tls. */
  secure: boolean;
  /** The URL as given, used as `broker_url` identity and in messages. */
  url: string;
}

/**
 * Parses `http://host:port`, `https://host:port` or bare `host:port` (IPv6 in brackets). A port is required:
 * silently falling back to 6650 would hide a typo in a config file.
 */
export function parseBrokerUrl(url: string, what = 'broker URL'): BrokerAddress {
  const fail = (why: string) =>
    new DanubeError(`${what} "${url}" is invalid: ${why}; expected http://host:port or https://host:port`, {
      code: 'DC_ERR_INVALID_URL',
      retryable: false,
    });
  if (typeof url !== 'string' || url.trim() === '') throw fail('it is empty');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw fail('it is not a URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw fail(`scheme ${parsed.protocol} is not supported`);
  if (!parsed.hostname) throw fail('the host is missing');
  if (!parsed.port) throw fail('the port is missing');
  if ((parsed.pathname && parsed.pathname !== '/') || parsed.search || parsed.hash) throw fail('it must not have a path');
  return { target: `${parsed.hostname}:${parsed.port}`, secure: parsed.protocol === 'https:', url };
}
