// When a named step is reached, from what can be seen without changing the
// agent: files appearing under its state dir (fs.watch on the few dirs where
// its temp files live) and the progress lines the CLI streams. StepTrigger
// is the pure decision (signals in, fire or not); StateDirWatch turns the
// state dir's changes into signals. The step list and what fires each one:
// plan.ts.
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Step } from './plan.js';

/** Something seen: a name changed under the state dir (relative path), or a CLI progress event. */
export type Signal = { kind: 'fs'; path: string } | { kind: 'cli'; event: string };

/** The activation events the CLI prints as `<host>  [+1.23s] <event>  <message>`. */
const CLI_EVENTS = ['uploading', 'uploaded', 'unpacking', 'starting', 'ready', 'draining', 'done', 'failed', 'rolled_back', 'auto_rolled_back'];
const CLI_LINE = new RegExp(`^\\S+\\s+(?:\\+[\\d.]+s\\s+)?(${CLI_EVENTS.join('|')})\\b`);

/** The progress event of one line of the CLI's stderr, if it is one. */
export function cliEvent(line: string): string | undefined {
  return CLI_LINE.exec(line)?.[1];
}

function base(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Decides, signal by signal, whether the step has been reached. `random`
 * and `idle` are timed by the caller and never fire here.
 */
export class StepTrigger {
  private armed = false;
  private fired = false;

  constructor(private readonly step: Step, private readonly app: string) {}

  /** True once, for the signal that reaches the step. */
  feed(s: Signal): boolean {
    if (this.fired) return false;
    const hit = this.matches(s);
    if (hit) this.fired = true;
    return hit;
  }

  private matches(s: Signal): boolean {
    const appDir = `apps/${this.app}`;
    const fs = s.kind === 'fs' ? s.path : '';
    const cli = s.kind === 'cli' ? s.event : '';
    switch (this.step) {
      case 'lock': return fs.startsWith('.tmp-locks.json-');
      case 'upload': return fs.startsWith(`${appDir}/store/.tmp-upload-`);
      case 'unpacking': return fs.startsWith(`${appDir}/releases/.tmp-unpack-`);
      case 'starting': case 'ready': case 'draining': case 'done': return cli === this.step;
      case 'current': return fs.startsWith(`${appDir}/.tmp-current-`);
      case 'state':
        // Armed by the first sign that the new version is ready; then the next state write.
        if (fs.startsWith(`${appDir}/.tmp-current-`) || cli === 'ready' || cli === 'draining') this.armed = true;
        return this.armed && fs.startsWith(`${appDir}/.tmp-state.json-`);
      case 'env-write': return fs.startsWith(`${appDir}/shared/.tmp-env-`);
      case 'prune': return (fs.startsWith(`${appDir}/store/`) || fs.startsWith(`${appDir}/releases/`)) && !base(fs).startsWith('.tmp-unpack-');
      case 'idle': case 'random': return false;
    }
  }
}

/**
 * Watches the state dir's root and the app's dir, store/, releases/ and
 * shared/ (the places of its temp files), calling `onSignal` with the path
 * of every name that changes, relative to the state dir. A dir that does not
 * exist yet is watched from when its parent reports it.
 */
export class StateDirWatch {
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly dirs: string[];
  private listener: (s: Signal) => void = () => {};

  constructor(private readonly stateDir: string, app: string) {
    const appDir = `apps/${app}`;
    this.dirs = ['', 'apps', appDir, `${appDir}/store`, `${appDir}/releases`, `${appDir}/shared`];
    this.attachMissing();
  }

  onSignal(fn: (s: Signal) => void): void {
    this.listener = fn;
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private attachMissing(): void {
    for (const rel of this.dirs) {
      if (this.watchers.has(rel)) continue;
      try {
        const w = watch(join(this.stateDir, rel), (_event, name) => {
          if (name) this.listener({ kind: 'fs', path: rel ? `${rel}/${name}` : name });
          if (this.watchers.size < this.dirs.length) this.attachMissing();
        });
        w.on('error', () => { w.close(); this.watchers.delete(rel); });
        this.watchers.set(rel, w);
      } catch { /* not there yet */ }
    }
  }
}
