// Where things live under the agent's state dir (design.md "On the host").
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { releaseDirName } from '../common/names.js';

export const MARKER_FILE = '.slipway-release.json';
export const TEMP_PREFIX = '.tmp-';

/**
 * A temp name for work in progress. It carries the agent's pid, so that the
 * cleanup of leftovers (interrupted uploads, unpacks, state writes) never
 * takes a temp file that this agent is still writing.
 */
export function tempEntryName(kind: string): string {
  return `${TEMP_PREFIX}${kind}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** A temp entry left by an earlier agent process (not one of this process's). */
export function isLeftover(name: string): boolean {
  return name.startsWith(TEMP_PREFIX) && !name.includes(`-${process.pid}-`);
}

export class AppPaths {
  readonly root: string;
  constructor(stateDir: string, readonly app: string) {
    this.root = join(stateDir, 'apps', app);
  }
  get store(): string { return join(this.root, 'store'); }
  get releases(): string { return join(this.root, 'releases'); }
  get current(): string { return join(this.root, 'current'); }
  get shared(): string { return join(this.root, 'shared'); }
  get sharedEnv(): string { return join(this.root, 'shared', 'env'); }
  get state(): string { return join(this.root, 'state.json'); }
  get logs(): string { return join(this.root, 'logs'); }
  get appLog(): string { return join(this.root, 'logs', 'app.log'); }
  /** The app's own writable places (runtime/app-dirs.ts): kept across releases, owned by the app's user. */
  get data(): string { return join(this.root, 'data'); }
  get tmp(): string { return join(this.root, 'tmp'); }
  tarball(sha256: string): string { return join(this.store, `${sha256}.tar.gz`); }
  tarballMeta(sha256: string): string { return join(this.store, `${sha256}.json`); }
  release(version: string, sha256: string): string { return join(this.releases, releaseDirName(version, sha256)); }
  marker(version: string, sha256: string): string { return join(this.release(version, sha256), MARKER_FILE); }
}

export function appsDir(stateDir: string): string {
  return join(stateDir, 'apps');
}
