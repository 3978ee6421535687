/**
 * Imports an optional peer dependency of the host (what `danube-connect dev` runs: the test kit, aedes). A
 * production install carries neither, so each is imported on first use, and its absence is `missing`, a clear
 * instruction, instead of a module-resolution stack trace. A dependency missing inside an installed package is
 * a broken install and is thrown as it is.
 */
export async function importOptional<T>(name: string, missing: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && (err as Error).message.includes(`'${name}'`)) throw new Error(missing, { cause: err });
    throw err;
  }
}
