import type { CliCommand } from './cli-command.js';
import { pluginsCommand } from './plugins-command.js';
import { validateCommand } from './validate-command.js';

/**
 * The CLI's commands by name, in --help order. The supervisor's `run` and `reload` are added here (one module
 * each, like validate-command.ts) and nothing else changes.
 */
export const commands: Readonly<Record<string, CliCommand>> = {
  validate: validateCommand,
  plugins: pluginsCommand,
};
