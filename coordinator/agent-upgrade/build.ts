// The release an agent upgrade sends: the agent's bundle (dist/bin's
// slipway-agent.mjs and the files beside it that it loads) or the single
// executable, packed as a release of the reserved app AGENT_APP with a
// manifest and package.json of its version, and signed with slipway.yaml's
// signing_key like any release. Packed deterministically (fixed times, sorted
// entries): the same build makes the same tarball, so hosts that have it
// are sent nothing.
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { AGENT_APP } from '../../common/agent-build.js';
import { isVersion } from '../../common/version.js';
import { readPrivateKey, sha256Hex, signRelease, type ReleaseSignature } from '../../common/signing.js';
import { SLIPWAY_VERSION, slipwayVersionAbove } from '../../common/package-info.js';
import { packRelease, sha256File } from '../build/pack.js';
import { tarballName } from '../build/build.js';
import { packageFile } from '../setup/desired.js';
import { UsageError } from '../errors.js';

export interface AgentRelease {
  app: string;
  version: string;
  file: string;
  sha256: string;
  size: number;
  signature?: ReleaseSignature;
  /** 'bundle' (runs on the host's node) or 'executable' (the single executable). */
  kind: 'bundle' | 'executable';
  /** The file the build was made from. */
  source: string;
}

/** The fixed time of every entry and of the manifest's source_date. */
const FIXED_TIME = new Date('2000-01-01T00:00:00Z');
/**
 * What the agent's bundle loads from beside itself: agent/worker-file.ts's BUNDLED and the API descriptors
 * (scripts/bundle.mjs). Listed here, not imported: that module reads import.meta, which the CLI's CommonJS bundle lacks.
 */
const BESIDE_BUNDLE = ['unpack-worker.mjs', 'hash-worker.mjs', 'host-facts-worker.mjs', 'supervisor.mjs', 'slipway.json', 'health.json', 'slipway.proto'];

/** The agent bundle this CLI came with. */
export function ownBundle(): string {
  return packageFile('dist/bin/slipway-agent.mjs');
}

function isElf(file: string): boolean {
  const b = Buffer.alloc(4);
  const fd = openSync(file, 'r');
  try { readSync(fd, b, 0, 4, 0); } finally { closeSync(fd); }
  return b.readUInt32BE(0) === 0x7f454c46;
}

/** The version a bundle reports: its package.json (named slipway), found walking up from the bundle as the agent does (common/package-info.ts). */
function bundleVersion(file: string): string | undefined {
  return slipwayVersionAbove(dirname(file));
}

/**
 * `--to`: a file (the bundle or the single executable), or a version, which
 * must be this CLI's own (its bundle is sent). Default: this CLI's bundle.
 */
export function resolveBuildSource(to: string | undefined): string {
  if (to === undefined) return ownBundle();
  if (existsSync(to)) return resolve(to);
  if (isVersion(to.replace(/^v/, ''))) {
    if (to.replace(/^v/, '') === SLIPWAY_VERSION) return ownBundle();
    throw new UsageError(`--to ${to}: this CLI is slipway ${SLIPWAY_VERSION} and has no agent build of ${to}; give the build's file instead (--to path/to/slipway-agent.mjs, or the single executable)`);
  }
  throw new UsageError(`--to ${to}: no such file (give the agent bundle slipway-agent.mjs, the single executable, or a version)`);
}

/** Packs (and signs, with a signing key) the agent build made from `source` into `outDir`. */
export async function makeAgentRelease(source: string, outDir: string, signingKey?: string): Promise<AgentRelease> {
  if (!statSync(source).isFile()) throw new UsageError(`${source} is not a file: give the agent bundle slipway-agent.mjs or the single executable`);
  const kind = isElf(source) ? 'executable' : 'bundle';
  let version: string | undefined;
  if (kind === 'executable') {
    const r = spawnSync(source, ['--version'], { encoding: 'utf8', timeout: 20_000 });
    version = r.status === 0 ? r.stdout.trim().split('\n').pop() : undefined;
    if (!version) throw new UsageError(`${source} --version did not answer with a version (exit ${r.status ?? r.signal}): is it the slipway agent's single executable?`);
  } else {
    if (!/\.m?js$/.test(source)) throw new UsageError(`${source} is neither a Linux executable nor a .mjs bundle: give dist/bin/slipway-agent.mjs or the single executable`);
    version = bundleVersion(source);
    if (!version) throw new UsageError(`no package.json of slipway above ${source}: the bundle's version is unknown (give the bundle in its dist/bin)`);
  }
  if (!isVersion(version)) throw new UsageError(`the build's version "${version}" is not exact semver`);

  const stage = mkdtempSync(join(tmpdir(), 'slipway-agent-build-'));
  try {
    mkdirSync(join(stage, 'bin'));
    const files = ['bin', 'package.json'];
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify({ name: 'slipway', version, private: true }, null, 1)}\n`);
    if (kind === 'executable') {
      copyFileSync(source, join(stage, 'bin', 'slipway-agent'));
      files.push('bin/slipway-agent');
    } else {
      copyFileSync(source, join(stage, 'bin', 'slipway-agent.mjs'));
      files.push('bin/slipway-agent.mjs');
      for (const name of BESIDE_BUNDLE) {
        const f = join(dirname(source), name);
        if (!existsSync(f)) continue;
        copyFileSync(f, join(stage, 'bin', name));
        files.push(`bin/${name}`);
      }
    }
    files.sort();
    const manifest = {
      app: AGENT_APP, version,
      git: { commit: await sha256File(source), tag: `agent-${version}` },
      source_date: FIXED_TIME.toISOString(),
      run: { command: [kind === 'executable' ? 'bin/slipway-agent' : 'bin/slipway-agent.mjs'] },
      tasks: {},
    };
    const manifestJson = `${JSON.stringify(manifest, null, 2)}\n`;
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, tarballName(AGENT_APP, version));
    await packRelease(stage, files, manifestJson, file, FIXED_TIME);
    const sha256 = await sha256File(file);
    const signature = signingKey ? signRelease(readPrivateKey(signingKey), { app: AGENT_APP, version, sha256, manifest_sha256: sha256Hex(manifestJson) }) : undefined;
    return { app: AGENT_APP, version, file, sha256, size: statSync(file).size, signature, kind, source: basename(source) };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
