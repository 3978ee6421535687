import type { CliCommand } from './cli-command.js';
import { devCommand } from './dev-command.js';
import { pauseCommand, restartCommand, resumeCommand } from './connector-command.js';
import { newPluginCommand } from './new-plugin-command.js';
import { pluginsCommand } from './plugins-command.js';
import { publishCommand } from './publish-command.js';
import { reloadCommand } from './reload-command.js';
import { runCommand } from './run-command.js';
import { tailCommand } from './tail-command.js';
import { validateCommand } from './validate-command.js';

/**
 * The CLI's commands by name, in --help order; one module each.
 */
export const commands: Readonly<Record<string, CliCommand>> = {
  run: runCommand,
  dev: devCommand,
  reload: reloadCommand,
  validate: validateCommand,
  plugins: pluginsCommand,
  restart: restartCommand,
  pause: pauseCommand,
  resume: resumeCommand,
  tail: tailCommand,
  publish: publishCommand,
  'new-plugin': newPluginCommand,
};
