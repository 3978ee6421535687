import { importOptional } from './optional-package.js';

/**
 * The test kit `danube-connect dev` runs connectors against (its TestBroker). An optional peer dependency of
 * the host: a production install of the host carries neither the kit nor its dependencies (jose, ajv), so it is
 * imported on first use, and its absence is a clear instruction instead of a module-resolution stack trace.
 */
export interface TestingKit {
  // What the host uses of the kit, declared here so that the host's published types do not need the optional peer
  // installed (a `typeof import` would put an import of it in dist/index.d.ts). The kit's own types have the rest;
  // host/test/optional-package.test.ts checks that the real kit fits.
  readonly TestBroker: {
    start(options: { host?: string; port?: number; adminPort?: number; namespaces?: string[] }): Promise<{ readonly serviceUrl: string; readonly adminUrl: string; stop(): Promise<void> }>;
  };
}

const KIT = '@danube-connect/testing';

export const TESTING_KIT_MISSING = `install ${KIT} (npm i -D ${KIT}) to use danube-connect dev`;

/** Imports @danube-connect/testing from where the host is installed; throws `TESTING_KIT_MISSING` when it is absent. */
export function loadTestingKit(): Promise<TestingKit> {
  return importOptional(KIT, TESTING_KIT_MISSING, () => import('@danube-connect/testing'));
}
