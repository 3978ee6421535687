import { createRequire } from 'node:module';
import { hostPackageJson } from '../host-package.js';

/** The SDK the host runs (and forks children with), checked against each plugin's `sdk` range. */
export interface SdkInfo {
  version: string;
  /** The host package's dependency range on @danube-connect/sdk, for messages. */
  hostRange: string;
}

export const SDK_PACKAGE = '@danube-connect/sdk';

export function runningSdk(): SdkInfo {
  const require = createRequire(import.meta.url);
  const { version } = require(`${SDK_PACKAGE}/package.json`) as { version: string };
  return { version, hostRange: hostPackageJson().dependencies?.[SDK_PACKAGE] ?? version };
}
