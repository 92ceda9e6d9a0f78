// ListReleases: the releases stored or unpacked on this host, each marked
// current or rollback target from its app's state.
import { appNameProblem } from '../../../common/names.js';
import { unary } from '../rpc.js';
import { check, type AppDirectory } from './common.js';
import { rollbackTarget } from '../../runtime/state.js';
import type { Releases } from '../../storage/releases.js';
import type { Logger } from '../../logger.js';
import type { AgentHandlers } from '../../../proto/gen/slipway/v1/Agent.js';
import type { ReleaseInfo } from '../../../proto/gen/slipway/v1/ReleaseInfo.js';

export interface ReleaseHandlerDeps {
  apps: AppDirectory;
  releases: Pick<Releases, 'list'>;
  log: Logger;
}

export function releaseHandlers(deps: ReleaseHandlerDeps): Pick<AgentHandlers, 'ListReleases'> {
  return {
    ListReleases: unary(deps.log, 'ListReleases', async (req) => {
      if (req.app) check(appNameProblem(req.app));
      const apps = req.app ? [req.app] : await deps.apps.apps();
      const releases: ReleaseInfo[] = [];
      for (const app of apps) {
        const rt = (await deps.apps.hasApp(app)) ? await deps.apps.runtime(app) : undefined;
        const st = rt?.persistedState;
        const current = st?.desired?.sha256;
        const target = st ? rollbackTarget(st)?.sha256 : undefined;
        for (const r of await deps.releases.list(app)) {
          releases.push({ ...r, size: r.size, current: r.sha256 === current, rollback_target: r.sha256 === target });
        }
      }
      return { releases };
    }),
  };
}
