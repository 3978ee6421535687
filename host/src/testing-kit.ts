import { importOptional } from './optional-package.js';

/**
 * The test kit `danube-connect dev` runs connectors against (its TestBroker). An optional peer dependency of
 * the host: a production install of the host carries neither the kit nor its dependencies (jose, ajv), so it is
 * imported on first use, and its absence is a clear instruction instead of a module-resolution stack trace.
 */
export type TestingKit = typeof import('@danube-connect/testing');

const KIT = '@danube-connect/testing';

export const TESTING_KIT_MISSING = `install ${KIT} (npm i -D ${KIT}) to use danube-connect dev`;

/** Imports @danube-connect/testing from where the host is installed; throws `TESTING_KIT_MISSING` when it is absent. */
export function loadTestingKit(): Promise<TestingKit> {
  return importOptional(KIT, TESTING_KIT_MISSING, () => import('@danube-connect/testing'));
}
