// What happens in the agent, for whoever watches (metrics, logs, later the
// HTTP endpoint): one typed emitter the runtimes and the store report to.
import { EventEmitter } from 'node:events';

export interface AgentEventMap {
  /** An activation ended. */
  activation: [{ app: string; version: string; strategy: string; result: 'done' | 'failed'; seconds: number; reason: string; from: string; who: string; message: string }];
  /** An app changed state. */
  state: [{ app: string; state: string; from: string; reason: string }];
  /** The agent restarted a crashed app. */
  restart: [{ app: string; version: string; reason: string }];
  /** Prune removed something (kind: release | tarball | temp | log). */
  prune: [{ app: string; kind: string; bytes: number }];
}

export type ActivationEnded = AgentEventMap['activation'][0];

export class AgentEvents extends EventEmitter<AgentEventMap> {}
