import { createRequire } from 'node:module';

/** The version of the running SDK, from its package.json (resolved by the package's own name, so it works from dist/ and src/). */
export function sdkVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('@danube-connect/sdk/package.json') as { version: string }).version;
}
