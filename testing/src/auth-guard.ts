import { status } from '@grpc/grpc-js';
import type { Metadata, StatusObject } from '@grpc/grpc-js';
import { jwtVerify } from 'jose';

export type Denial = Partial<StatusObject>;

/** Checks a call's metadata before its handler runs; undefined lets it through. */
export type CallCheck = (metadata: Metadata) => Denial | undefined | Promise<Denial | undefined>;

/** The broker caches a successful validation per token string for 30 s (docs/danube-protocol.md §5). */
const CACHE_MS = 30_000;
const CACHE_LIMIT = 1_000;
const REQUIRED_CLAIMS = ['iss', 'exp', 'sub', 'principal_type', 'principal_name'] as const;

function unauthenticated(details: string): Denial {
  return { code: status.UNAUTHENTICATED, details };
}

/**
 * JWT authentication of the broker's `tls` auth mode (docs/danube-protocol.md §5): `authorization: Bearer <HS256 JWT>`
 * (lowercase `bearer` too) with all five claims and a valid expiry, else UNAUTHENTICATED. The issuer is not
 * checked, as in the broker. Every valid principal is allowed everything: the broker's RBAC bindings are
 * not modelled.
 */
export class AuthGuard {
  private readonly key: Uint8Array;
  /** token → time (ms) until which it counts as valid. */
  private readonly cache = new Map<string, number>();

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  readonly check: CallCheck = (metadata) => {
    const header = metadata.get('authorization')[0];
    if (header === undefined) return unauthenticated('Missing authorization header');
    const text = typeof header === 'string' ? header : header.toString('utf8');
    const match = /^(?:Bearer|bearer) (.+)$/.exec(text);
    if (!match) return unauthenticated('Invalid authorization header: expected "Bearer <token>"');
    const token = match[1] as string;
    const validUntil = this.cache.get(token);
    if (validUntil !== undefined && Date.now() < validUntil) return undefined;
    return this.verify(token);
  };

  private async verify(token: string): Promise<Denial | undefined> {
    let payload: Record<string, unknown>;
    try {
      // No clock tolerance: the Rust jsonwebtoken default allows 60 s of leeway, which this guard does not.
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'] }));
    } catch (err) {
      return unauthenticated(`Invalid token: ${(err as Error).message}`);
    }
    const missing = REQUIRED_CLAIMS.filter((claim) => payload[claim] === undefined);
    if (missing.length > 0) return unauthenticated(`Invalid token: missing claim(s) ${missing.join(', ')}`);
    // The broker decodes the claims into a struct: a claim of the wrong type fails like a missing one.
    const mistyped = REQUIRED_CLAIMS.filter((claim) => typeof payload[claim] !== (claim === 'exp' ? 'number' : 'string'));
    if (mistyped.length > 0) return unauthenticated(`Invalid token: claim(s) of the wrong type ${mistyped.join(', ')}`);
    const exp = payload.exp as number;
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    // Cached for 30 s like the broker, but never past the token's own expiry.
    this.cache.set(token, Math.min(Date.now() + CACHE_MS, exp * 1000));
    return undefined;
  }
}
