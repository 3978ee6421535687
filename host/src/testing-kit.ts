/**
 * The test kit `danube-connect dev` will run connectors against (its TestBroker). An optional peer dependency of
 * the host: a production install of the host carries neither the kit nor its dependencies (jose, ajv), so it is
 * imported on first use, and its absence is a clear instruction instead of a module-resolution stack trace.
 */
export type TestingKit = typeof import('@danube-connect/testing');

const KIT = '@danube-connect/testing';

export const TESTING_KIT_MISSING = `install ${KIT} (npm i -D ${KIT}) to use danube-connect dev`;

/** Imports @danube-connect/testing from where the host is installed; throws `TESTING_KIT_MISSING` when it is absent. */
export async function loadTestingKit(): Promise<TestingKit> {
  try {
    return await import('@danube-connect/testing');
  } catch (err) {
    // Only the kit itself missing: a dependency missing inside an installed kit is a broken install, said as is.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && (err as Error).message.includes(`'${KIT}'`)) throw new Error(TESTING_KIT_MISSING, { cause: err });
    throw err;
  }
}
