import { importOptional } from '../optional-package.js';

/** aedes, the MQTT broker `danube-connect dev` embeds: an optional peer dependency of the host, like the test kit. */
type AedesModule = typeof import('aedes');

export const AEDES_MISSING = 'install aedes (npm i -D aedes@1) to use the MQTT broker danube-connect dev embeds';

/** Imports aedes from where the host is installed; throws `AEDES_MISSING` when it is absent. */
export function loadAedes(): Promise<AedesModule> {
  return importOptional('aedes', AEDES_MISSING, () => import('aedes'));
}
