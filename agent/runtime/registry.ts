// The apps' runtimes on this host: one AppRuntime per app, loaded from its
// state.json on first use and kept for the agent's life (a load that failed
// is tried again next time).
import { stat } from 'node:fs/promises';
import { AppRuntime, type RuntimeDeps } from './app-runtime.js';
import { AppPaths } from '../paths.js';
import { AGENT_APP } from '../../common/agent-build.js';
import type { Logger } from '../logger.js';

export class AppRuntimes {
  private readonly loaded = new Map<string, Promise<AppRuntime>>();

  constructor(private readonly deps: RuntimeDeps) {}

  /** Every app with releases on this host (the agent's own builds, AGENT_APP, are not an app: agent/upgrade/). */
  async apps(): Promise<string[]> {
    return (await this.deps.releases.apps()).filter((a) => a !== AGENT_APP);
  }

  /** Whether the app's directory exists. */
  async hasApp(app: string): Promise<boolean> {
    try {
      await stat(new AppPaths(this.deps.stateDir, app).root);
      return true;
    } catch {
      return false;
    }
  }

  runtime(app: string): Promise<AppRuntime> {
    let rt = this.loaded.get(app);
    if (!rt) {
      rt = AppRuntime.load(this.deps, app);
      this.loaded.set(app, rt);
      rt.catch(() => this.loaded.delete(app));
    }
    return rt;
  }

  /** The runtime of every app on this host. */
  async all(): Promise<AppRuntime[]> {
    return Promise.all((await this.apps()).map((app) => this.runtime(app)));
  }

  /** Compares what should run with what runs, for every app, and mends it; a failure is logged and the next app goes on. */
  async reconcileAll(log: Logger): Promise<void> {
    for (const app of await this.apps()) {
      await this.runtime(app).then((rt) => rt.reconcile()).catch((err: unknown) => log.error({ err, app }, 'reconcile failed'));
    }
  }

  /** Stops the runtimes' timers; the apps keep running. */
  async detachAll(): Promise<void> {
    for (const p of this.loaded.values()) (await p).detach();
  }
}
