// Agent builds for the agent-upgrade tests: the real bundle with another
// version stamped on it (its package.json), or the real single executable
// built with another version, or a broken one of either.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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
 * <dir>/<name>/slipway-agent: the real single executable (scripts/build-sea.mjs,
 * about 30 s: a test file builds each once), stamped `version` when given:
 * built from a directory that links the sources and holds a package.json of
 * that version (the script takes the version from its working directory's).
 */
export function seaBuild(dir: string, name: string, version?: string): string {
  const out = join(dir, name, 'slipway-agent');
  let cwd = ROOT;
  if (version) {
    cwd = join(dir, name, 'src');
    mkdirSync(cwd, { recursive: true });
    for (const d of readdirSync(ROOT)) {
      if (d !== 'package.json' && !d.startsWith('.')) symlinkSync(join(ROOT, d), join(cwd, d));
    }
    writeFileSync(join(cwd, 'package.json'), `${JSON.stringify({ name: 'slipway', version, type: 'module' })}\n`);
  }
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-sea.mjs'), '--out', out], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

/**
 * <dir>/<name>/slipway-agent: a broken single executable, this node with
 * `main` (CommonJS source) as its injected script instead of the agent (a
 * few seconds: no bundles).
 */
export function brokenSeaBuild(dir: string, name: string, main: string): string {
  const work = join(dir, name);
  mkdirSync(work, { recursive: true });
  const out = join(work, 'slipway-agent');
  writeFileSync(join(work, 'main.cjs'), main);
  writeFileSync(join(work, 'sea-config.json'), JSON.stringify({
    main: join(work, 'main.cjs'), output: join(work, 'sea-prep.blob'), disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false,
  }));
  execFileSync(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], { stdio: 'ignore' });
  copyFileSync(process.execPath, out);
  chmodSync(out, 0o755);
  const postject = join(dirname(createRequire(import.meta.url).resolve('postject/package.json')), 'dist', 'cli.js');
  execFileSync(process.execPath, [postject, out, 'NODE_SEA_BLOB', join(work, 'sea-prep.blob'), '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], { stdio: 'ignore' });
  return out;
}
