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
  /** A step of an activation, start or stop (DeployEvent's shape), as it happens: what Watch streams. */
  step: [ActivationStep];
  /** Prune removed something (kind: release | tarball | temp | log). */
  prune: [{ app: string; kind: string; bytes: number }];
}

/** One activation event: the words of design.md (unpacking … done | failed …), the agent's clock. */
export interface ActivationStep {
  app: string; version: string; from_version: string; event: string; message: string;
  at: string; elapsed_s: number; pid: number; output: string[];
}

export type ActivationEnded = AgentEventMap['activation'][0];

export class AgentEvents extends EventEmitter<AgentEventMap> {
  constructor() {
    super();
    // Each Watch call listens to 'step' while it lasts: many watchers are no leak.
    this.setMaxListeners(0);
  }
}
