// Picks the strategy for an activation: the request's, else the manifest's.
import { SlipwayError } from '../../../common/errors.js';
import { defaultStrategy, type RunSpec } from '../../../common/manifest.js';
import { restartStrategy } from './restart.js';
import { hotStrategy } from './hot.js';
import { commandStrategy } from './command.js';
import type { ActivationStrategy } from './strategy.js';

const strategies: Record<string, ActivationStrategy> = {
  restart: restartStrategy,
  hot: hotStrategy,
  command: commandStrategy,
};

/**
 * restart: a restart onto the release that runs, to apply changed settings
 * (shared/env): an upgrade command would keep the process and its old
 * environment, so it is a hot swap where sockets are held, else a restart.
 */
export function chooseStrategy(requested: string, run: RunSpec, restart = false): ActivationStrategy {
  const wanted = requested || defaultStrategy(run);
  let name = Array.isArray(wanted) ? 'command' : wanted;
  if (restart && name === 'command') name = run.listen.length > 0 ? 'hot' : 'restart';
  if (name === 'hot' && run.listen.length === 0) {
    throw new SlipwayError('SLIPWAY_ERR_BAD_RELEASE', 'strategy "hot" needs sockets to hand over, and this release has no run.listen; use restart');
  }
  const s = strategies[name];
  if (s) return s;
  throw new SlipwayError('SLIPWAY_ERR_BAD_REQUEST', `strategy "${name}" is not supported by this agent; use one of: ${Object.keys(strategies).join(', ')}`);
}
