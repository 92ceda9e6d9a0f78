// Watch: every activation event on this host as it happens, whoever started
// the activation (another client's Activate or Control, the agent's own auto
// rollback). A live feed, nothing replayed; slipway ui follows it beside its
// Status polls. A watcher that stops reading is dropped (its stream ends and
// it calls again) rather than buffered without end.
import * as grpc from '@grpc/grpc-js';
import { appNameProblem } from '../../../common/names.js';
import { serverStream } from '../rpc.js';
import { check } from './common.js';
import type { Logger } from '../../logger.js';
import type { AgentEvents, ActivationStep } from '../../events.js';
import type { AgentHandlers } from '../../../proto/gen/slipway/v1/Agent.js';
import type { DeployEvent } from '../../../proto/gen/slipway/v1/DeployEvent.js';
import type { WatchRequest__Output } from '../../../proto/gen/slipway/v1/WatchRequest.js';

/** Events a watcher may have unsent before it is dropped (an activation has about five). */
export const WATCH_BACKLOG = 1000;

export interface WatchHandlerDeps {
  events: Pick<AgentEvents, 'on' | 'off'>;
  log: Logger;
}

export function watchHandlers(deps: WatchHandlerDeps): Pick<AgentHandlers, 'Watch'> {
  return {
    Watch: serverStream(deps.log, 'Watch', (req: WatchRequest__Output, call: grpc.ServerWritableStream<WatchRequest__Output, DeployEvent>) => {
      if (req.app) check(appNameProblem(req.app));
      return new Promise<void>((resolve) => {
        const done = () => { deps.events.off('step', onStep); resolve(); };
        const onStep = (e: ActivationStep) => {
          if (req.app && e.app !== req.app) return;
          if (call.writableLength >= WATCH_BACKLOG) {
            deps.log.warn({ peer: call.getPeer(), unsent: call.writableLength }, 'Watch: dropped a watcher that does not read its events');
            done();
            return;
          }
          call.write(e);
        };
        deps.events.on('step', onStep);
        // Headers now, not with the first event: the watcher knows it is subscribed.
        call.sendMetadata(new grpc.Metadata());
        call.on('cancelled', done);
        call.on('close', done);
        if (call.cancelled) done();
      });
    }),
  };
}
