import { formatProblem, type ConfigProblem } from './config-problem.js';

/** Thrown by the throwing variants of config loading: every problem at once; `message` lists them, one per line. */
export class HostConfigError extends Error {
  override name = 'HostConfigError';
  readonly code = 'DC_ERR_HOST_CONFIG';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.problems = problems;
  }
}
