// The app the fault-injection run deploys: examples/hello (socket
// activation, READY=1 on NOTIFY_FD, drains on SIGTERM) in a git repo of its
// own, aimed at one agent over mTLS with signed releases, plus a 4 MiB
// incompressible pad.bin in every release so that its upload and its unpack
// last long enough to be interrupted. Works from the sources (tsx) and from
// dist/ (the bench): the repo root is found from this file's place.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pki } from '../../../scripts/pki.js';
import { runCli } from './cli-run.js';

const here = dirname(fileURLToPath(import.meta.url));
/** test/helpers/chaos → the repo root; dist/test/helpers/chaos → the repo root too. */
export const REPO_ROOT = here.includes(join('dist', 'test')) ? join(here, '..', '..', '..', '..') : join(here, '..', '..', '..');

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=slipway chaos', '-c', 'user.email=chaos@slipway.invalid', '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', ...args], {
    cwd, stdio: 'pipe', env: { ...process.env, GIT_AUTHOR_DATE: '2026-11-01T10:00:00Z', GIT_COMMITTER_DATE: '2026-11-01T10:00:00Z' },
  });
}

export class ChaosApp {
  readonly app = 'hello';
  readonly env = 'staging';
  /** What the set-up commands ran into and worked around (must()). */
  readonly notes: string[] = [];

  private constructor(readonly dir: string, readonly port: number, private readonly padBytes: number) {}

  /** Copies examples/hello into `dir`, pointed at the agent (mTLS as the PKI's deployer, releases signed). */
  static create(dir: string, o: { agent: string; port: number; pki: Pki; padBytes?: number }): ChaosApp {
    cpSync(join(REPO_ROOT, 'examples', 'hello'), dir, { recursive: true });
    const file = join(dir, 'slipway.yaml');
    const yaml = readFileSync(file, 'utf8')
      .replace(/port: 4000/, `port: ${o.port}`)
      .replace(/include: \[([^\]]*)\]/, 'include: [$1, pad.bin]')
      .replace(/environments:[\s\S]*$/, [
        'environments:',
        '  staging:',
        `    hosts: [${o.agent}]`,
        `tls: ${o.pki.coordinatorTls}`,
        `signing_key: ${o.pki.signing.private}`,
        'deadline_s: 5',
        '',
      ].join('\n'));
    if (!yaml.includes(`port: ${o.port}`) || !yaml.includes('pad.bin]')) throw new Error('examples/hello/slipway.yaml changed: cannot set its port or include');
    writeFileSync(file, yaml);
    git(dir, 'init', '-q', '-b', 'main');
    return new ChaosApp(dir, o.port, o.padBytes ?? 4 << 20);
  }

  /** Commits a release VERSION (its own message and pad) and builds it with the real CLI. */
  async build(version: string): Promise<void> {
    const pkgFile = join(this.dir, 'package.json');
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string };
    pkg.version = version;
    writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
    writeFileSync(join(this.dir, 'message.txt'), `release ${version}\n`);
    writeFileSync(join(this.dir, 'pad.bin'), randomBytes(this.padBytes));
    git(this.dir, 'add', '-A');
    git(this.dir, 'commit', '-q', '-m', `release ${version}`);
    git(this.dir, 'tag', '-f', version);
    const r = await runCli(this.dir, 'build', version);
    if (r.code !== 0) throw new Error(`slipway build ${version} failed:\n${r.output}`);
  }

  /**
   * Runs the CLI in the app's repo; throws unless it exits 0. When it finds
   * the app locked (a lease of ours that outlived its command), that is
   * noted, the lease released with `slipway unlock`, and the command run again.
   */
  async must(...args: string[]): Promise<string> {
    let r = await runCli(this.dir, ...args);
    if (r.code !== 0 && /is locked by/.test(r.output)) {
      this.notes.push(`set-up: slipway ${args.join(' ')} found a lease of ours still held (${r.output.split('\n').find((l) => /is locked by/.test(l))?.trim()}); released it with slipway unlock`);
      await runCli(this.dir, 'unlock', this.env);
      r = await runCli(this.dir, ...args);
    }
    if (r.code !== 0) throw new Error(`slipway ${args.join(' ')} exited ${r.code}:\n${r.output}`);
    return r.output;
  }
}
