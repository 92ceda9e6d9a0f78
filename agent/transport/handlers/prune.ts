// Prune: removing releases beyond keep_releases (never the current release,
// the rollback target or one in use), their tarballs, temp leftovers and old
// rotated logs; agent/storage/prune.ts decides and removes, this shapes the answer.
import { invalid } from '../../../common/errors.js';
import { unary } from '../rpc.js';
import { existingApp, type AppDirectory } from './common.js';
import type { Pruner } from '../../storage/prune.js';
import type { Logger } from '../../logger.js';
import type { AgentHandlers } from '../../../proto/gen/slipway/v1/Agent.js';

export interface PruneHandlerDeps {
  apps: Pick<AppDirectory, 'hasApp'>;
  pruner: Pick<Pruner, 'run'>;
  log: Logger;
}

export function pruneHandlers(deps: PruneHandlerDeps): Pick<AgentHandlers, 'Prune'> {
  return {
    Prune: unary(deps.log, 'Prune', async (req) => {
      if (req.app) await existingApp(deps.apps, req.app);
      if (req.keep > 1000) throw invalid(`keep ${req.keep} is over 1000`);
      const results = await deps.pruner.run({ app: req.app || undefined, keep: req.keep, dryRun: req.dry_run, why: req.dry_run ? 'dry run' : 'operator' });
      const removed = results.flatMap((r) => r.removed);
      return {
        removed,
        kept: results.flatMap((r) => r.kept.map((k) => ({
          ...k.release, current: k.why.includes('current'), rollback_target: k.why.includes('rollback_target'),
        }))),
        bytes_freed: removed.reduce((n, i) => n + i.bytes, 0),
        dry_run: req.dry_run,
      };
    }),
  };
}
