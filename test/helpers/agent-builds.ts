// Agent builds for the agent-upgrade tests: the real bundle with another
// version stamped on it (its package.json), or the real single executable
// built with another version (scripts/build-sea.mjs --version), or a broken
// one of either.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from './env.js';
import { AGENT_BIN } from '../../scripts/local-fleet.js';

/** The files of dist/bin the bundle loads from beside itself. */
const BUNDLE_FILES = ['slipway-agent.mjs', 'supervisor.mjs', 'unpack-worker.mjs', 'hash-worker.mjs', 'host-facts-worker.mjs', 'slipway.json', 'health.json', 'slipway.proto'];

/** <dir>/<name>/: the bundle's files with a package.json of `version`; `main` replaces the agent's own file. Its slipway-agent.mjs. */
export function bundleBuild(dir: string, name: string, version: string, main?: string): string {
  const out = join(dir, name);
  mkdirSync(out, { recursive: true });
  for (const f of BUNDLE_FILES) {
    if (existsSync(join(dirname(AGENT_BIN), f))) copyFileSync(join(dirname(AGENT_BIN), f), join(out, f));
  }
  if (main) writeFileSync(join(out, 'slipway-agent.mjs'), main);
  writeFileSync(join(out, 'package.json'), `${JSON.stringify({ name: 'slipway', version })}\n`);
  return join(out, 'slipway-agent.mjs');
}

/**
 * <dir>/<name>/slipway-agent: the single executable (about 30 s to build; a
 * test file builds each once), stamped `version` when given; with `main`
 * (CommonJS source), that script instead of the agent (a broken build, a few s).
 */
export function seaBuild(dir: string, name: string, opts: { version?: string; main?: string } = {}): string {
  const out = join(dir, name, 'slipway-agent');
  mkdirSync(dirname(out), { recursive: true });
  const args = [join(ROOT, 'scripts', 'build-sea.mjs'), '--out', out];
  if (opts.version) args.push('--version', opts.version);
  if (opts.main) {
    const main = join(dir, name, 'main.cjs');
    writeFileSync(main, opts.main);
    args.push('--main', main);
  }
  execFileSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}
