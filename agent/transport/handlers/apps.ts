// Activate and Control: changing what an app runs (a release switched in,
// start, stop, restart), with the progress streamed as DeployEvents.
import type * as grpc from '@grpc/grpc-js';
import { invalid, appNotFound, neverActivated } from '../../../common/errors.js';
import { appNameProblem, versionProblem, sha256Problem } from '../../../common/names.js';
import { serverStream } from '../rpc.js';
import { check, requester, type AppDirectory } from './common.js';
import type { History } from '../../history.js';
import type { AgentUpgrades } from '../../upgrade/upgrades.js';
import { AGENT_APP } from '../../../common/agent-build.js';
import type { Logger } from '../../logger.js';
import type { Emit } from '../../runtime/strategies/strategy.js';
import type { AgentHandlers } from '../../../proto/gen/slipway/v1/Agent.js';
import type { DeployEvent } from '../../../proto/gen/slipway/v1/DeployEvent.js';
import type { ActivateRequest__Output } from '../../../proto/gen/slipway/v1/ActivateRequest.js';
import type { ControlRequest__Output } from '../../../proto/gen/slipway/v1/ControlRequest.js';

export interface AppHandlerDeps {
  apps: Pick<AppDirectory, 'hasApp' | 'runtime'>;
  /** Activate of the reserved app AGENT_APP: the agent's own upgrade or rollback (agent/upgrade/). */
  agentUpgrades: Pick<AgentUpgrades, 'activate'>;
  history: Pick<History, 'append'>;
  log: Logger;
}

export function appHandlers(deps: AppHandlerDeps): Pick<AgentHandlers, 'Activate' | 'Control'> {
  const log = deps.log;
  return {
    Activate: serverStream(log, 'Activate', async (req: ActivateRequest__Output, call: grpc.ServerWritableStream<ActivateRequest__Output, DeployEvent>) => {
      if (req.app === AGENT_APP) {
        const t0 = Date.now();
        return deps.agentUpgrades.activate({ version: req.version, sha256: req.sha256, reason: req.reason, requested_by: requester(call, req.requested_by) },
          eventWriter(call, req.app, () => req.version, t0), cancelledBy(call));
      }
      check(appNameProblem(req.app) ?? versionProblem(req.version) ?? sha256Problem(req.sha256));
      if (req.strategy && !['hot', 'restart'].includes(req.strategy)) throw invalid(`strategy "${req.strategy}" is not one of: hot, restart`);
      const rt = await deps.apps.runtime(req.app);
      const t0 = Date.now();
      await rt.activate(
        { version: req.version, sha256: req.sha256, strategy: req.strategy, reason: req.reason, requested_by: requester(call, req.requested_by), undo: req.undo },
        eventWriter(call, req.app, () => req.version, t0, rt.runningRelease?.version ?? ''),
        cancelledBy(call),
      );
    }),

    Control: serverStream(log, 'Control', async (req: ControlRequest__Output, call: grpc.ServerWritableStream<ControlRequest__Output, DeployEvent>) => {
      check(appNameProblem(req.app));
      if (!(await deps.apps.hasApp(req.app))) throw appNotFound(req.app);
      const rt = await deps.apps.runtime(req.app);
      const t0 = Date.now();
      const version = rt.persistedState.desired?.version ?? '';
      const emit = eventWriter(call, req.app, () => version, t0);
      const who = requester(call, req.requested_by);
      switch (req.action) {
        case 'stop':
        case 'start': {
          let last = '';
          const record: Emit = (event, d) => { last = event === 'failed' || event === 'done' ? event : last; emit(event, d); };
          // A stop is never cut short (its process is already going); a start is given up with its client.
          await (req.action === 'stop' ? rt.stopApp(record, who) : rt.startApp(record, cancelledBy(call)));
          await deps.history.append({
            app: req.app, action: req.action, who, to_version: version,
            result: last === 'failed' ? 'failed' : 'done', duration_s: (Date.now() - t0) / 1000,
          });
          return;
        }
        case 'restart': {
          const d = rt.persistedState.desired;
          if (!d) throw neverActivated(`${req.app} was never activated on this host; deploy a version first`);
          return rt.activate({ ...d, strategy: '', reason: 'restart', requested_by: who, undo: false, restart: true }, emit, cancelledBy(call));
        }
        default: throw invalid(`action "${req.action}" is not one of: start, stop, restart`);
      }
    }),
  };
}

/**
 * Aborted when the client cancels the call (Ctrl-C, its deadline, a lost
 * connection): the runtime then undoes what it began, and says why with
 * the abort's reason ("activation cancelled by the client").
 */
function cancelledBy<Req>(call: grpc.ServerWritableStream<Req, DeployEvent>): AbortSignal {
  const ac = new AbortController();
  const cancel = () => ac.abort('cancelled by the client');
  call.on('cancelled', cancel);
  if (call.cancelled) cancel();
  return ac.signal;
}

/** An Emit that writes DeployEvents to a server stream. */
function eventWriter<Req>(call: grpc.ServerWritableStream<Req, DeployEvent>, app: string, version: () => string, t0: number, from = ''): Emit {
  return (event, d = {}) => {
    if (call.cancelled) return;
    call.write({
      event, app, version: version(), message: d.message ?? '', at: new Date().toISOString(),
      pid: d.pid ?? 0, output: d.output ?? [], from_version: from, elapsed_s: (Date.now() - t0) / 1000, unchanged: d.unchanged === true,
    });
  };
}
