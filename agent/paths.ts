// Where things live under the agent's state dir (design.md "On the host").
import { join } from 'node:path';
import { releaseDirName } from '../common/names.js';

export const MARKER_FILE = '.slipway-release.json';
export const TEMP_PREFIX = '.tmp-';

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
  tarball(sha256: string): string { return join(this.store, `${sha256}.tar.gz`); }
  tarballMeta(sha256: string): string { return join(this.store, `${sha256}.json`); }
  release(version: string, sha256: string): string { return join(this.releases, releaseDirName(version, sha256)); }
  marker(version: string, sha256: string): string { return join(this.release(version, sha256), MARKER_FILE); }
}

export function appsDir(stateDir: string): string {
  return join(stateDir, 'apps');
}
