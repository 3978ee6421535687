import { SignJWT } from 'jose';

/** The five claims a Danube broker requires in every token (docs/danube-protocol.md §5). */
export interface DanubeJwtClaims {
  iss: string;
  /** Unix seconds. */
  exp: number;
  sub: string;
  /** `service_account` | `user` | `broker_internal`; anything else counts as a service account. */
  principal_type: string;
  principal_name: string;
}

/**
 * Signs an HS256 JWT with exactly the claims given, so tests can also mint tokens lacking a claim.
 * Resolves to the compact token for `authorization: Bearer <token>`.
 */
export async function mintJwt(secret: string, claims: Partial<DanubeJwtClaims> & Record<string, unknown>): Promise<string> {
  return new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}
