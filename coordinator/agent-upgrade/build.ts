// The release an agent upgrade sends: the agent's bundle (dist/bin's
// slipway-agent.mjs and the files beside it that it loads), the single
// executable, or both (each host keeps the program it runs), packed as a
// release of the reserved app AGENT_APP with a manifest and package.json of
// its version, and signed with slipway.yaml's signing_key like any release.
// Packed deterministically (fixed times, sorted entries): the same build
// makes the same tarball, so hosts that have it are sent nothing. Each is
// kept in .slipway/agent-builds/ with its meta, for --to VERSION; a version
// that is neither this CLI's nor packed here is looked for on the hosts.
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

export type AgentBuildKind = 'bundle' | 'executable' | 'bundle+executable';

export interface AgentRelease {
  app: string;
  version: string;
  /** The tarball to send; undefined: kept on the hosts already (--to VERSION found there), nothing to send. */
  file?: string;
  sha256: string;
  size: number;
  signature?: ReleaseSignature;
  /**
   * 'bundle' (runs on the host's node), 'executable' (the single executable),
   * or both (each host keeps the one it runs); '' when only the hosts have it.
   */
  kind: AgentBuildKind | '';
  /** The files the build was made from (names), or where it was found. */
  source: string;
}

/** Beside each packed tarball: what it holds, so that --to VERSION can send it again (signed again, with manifest_sha256). */
interface AgentReleaseMeta {
  schema: 1;
  version: string;
  sha256: string;
  size: number;
  kind: AgentBuildKind;
  source: string;
  manifest_sha256: string;
}
const META_SUFFIX = '.json';

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

/** The single executable built beside this CLI (npm run build:sea), when there is one. */
export function ownExecutable(): string | undefined {
  const f = packageFile('dist/sea/slipway-agent');
  return existsSync(f) ? f : undefined;
}

/** Where `slipway agent upgrade` keeps the agent releases it packed (one per version, with its meta): --to VERSION finds them there. */
export function agentReleasesDir(root: string): string {
  return join(root, '.slipway', 'agent-builds');
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

/** What `--to` names: files to pack, a release packed here before, or a version to look for on the hosts. */
export type BuildSource =
  | { kind: 'files'; files: string[] }
  | { kind: 'packed'; release: AgentRelease }
  | { kind: 'hosts'; version: string };

/**
 * `--to` (given once, or twice: the bundle and the single executable, packed
 * into one release): files; or a version: this CLI's own (its bundle, and its
 * single executable when npm run build:sea made one), one packed here before
 * (agentReleasesDir), else one the hosts keep. Default: this CLI's own.
 */
export function resolveBuildSource(to: string[] | undefined, releasesDir: string, signingKey?: string): BuildSource {
  const own = (): BuildSource => {
    const exe = ownExecutable();
    return { kind: 'files', files: [ownBundle(), ...(exe && executableVersion(exe) === SLIPWAY_VERSION ? [exe] : [])] };
  };
  if (!to || to.length === 0) return own();
  if (to.length > 2) throw new UsageError(`--to was given ${to.length} times: give one build (a file or a version), or two files: the bundle and the single executable`);
  const versions = to.filter((t) => !existsSync(t) && isVersion(t.replace(/^v/, '')));
  if (versions.length > 0) {
    if (to.length > 1) throw new UsageError(`--to ${versions[0]}: a version goes alone (two --to are two files: the bundle and the single executable)`);
    const version = versions[0].replace(/^v/, '');
    if (version === SLIPWAY_VERSION) return own();
    const packed = readPackedRelease(releasesDir, version, signingKey);
    return packed ? { kind: 'packed', release: packed } : { kind: 'hosts', version };
  }
  for (const t of to) {
    if (!existsSync(t)) throw new UsageError(`--to ${t}: no such file (give the agent bundle slipway-agent.mjs, the single executable, or a version)`);
  }
  return { kind: 'files', files: to.map((t) => resolve(t)) };
}

/** A release of `version` packed here before, signed again with the key of now; undefined when there is none (or its meta does not match). */
function readPackedRelease(dir: string, version: string, signingKey?: string): AgentRelease | undefined {
  const file = join(dir, tarballName(AGENT_APP, version));
  let meta: AgentReleaseMeta;
  try {
    meta = JSON.parse(readFileSync(`${file}${META_SUFFIX}`, 'utf8')) as AgentReleaseMeta;
  } catch {
    return undefined;
  }
  if (meta.schema !== 1 || meta.version !== version || !existsSync(file) || statSync(file).size !== meta.size) return undefined;
  const signature = signingKey ? signRelease(readPrivateKey(signingKey), { app: AGENT_APP, version, sha256: meta.sha256, manifest_sha256: meta.manifest_sha256 }) : undefined;
  return { app: AGENT_APP, version, file, sha256: meta.sha256, size: meta.size, signature, kind: meta.kind, source: `${meta.source}, packed before` };
}

/** The version a single executable answers to --version; undefined when it does not. */
function executableVersion(file: string): string | undefined {
  const r = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0 ? r.stdout.trim().split('\n').pop() : undefined;
}

/** One program of a build: its kind and version (what it answers to --version, or its package.json's). */
function programInfo(source: string): { kind: 'bundle' | 'executable'; version: string } {
  if (!statSync(source).isFile()) throw new UsageError(`${source} is not a file: give the agent bundle slipway-agent.mjs or the single executable`);
  let version: string | undefined;
  const kind = isElf(source) ? 'executable' : 'bundle';
  if (kind === 'executable') {
    version = executableVersion(source);
    if (!version) throw new UsageError(`${source} --version did not answer with a version: is it the slipway agent's single executable?`);
  } else {
    if (!/\.m?js$/.test(source)) throw new UsageError(`${source} is neither a Linux executable nor a .mjs bundle: give dist/bin/slipway-agent.mjs or the single executable`);
    version = bundleVersion(source);
    if (!version) throw new UsageError(`no package.json of slipway above ${source}: the bundle's version is unknown (give the bundle in its dist/bin)`);
  }
  if (!isVersion(version)) throw new UsageError(`the build's version "${version}" (${source}) is not exact semver`);
  return { kind, version };
}

/**
 * Packs (and signs, with a signing key) the agent build made from `sources`
 * (the bundle, the single executable, or one of each: each host then keeps
 * the one it runs) into `outDir`, with its meta beside it (--to VERSION).
 */
export async function makeAgentRelease(sources: string[], outDir: string, signingKey?: string): Promise<AgentRelease> {
  const programs = sources.map((s) => ({ file: s, ...programInfo(s) }));
  const exe = programs.find((p) => p.kind === 'executable');
  const bundle = programs.find((p) => p.kind === 'bundle');
  if (programs.length === 2 && (!exe || !bundle)) throw new UsageError(`two --to files of one kind (${programs.map((p) => basename(p.file)).join(', ')}): give the bundle and the single executable, one each`);
  const version = programs[0].version;
  const other = programs.find((p) => p.version !== version);
  if (other) throw new UsageError(`${basename(programs[0].file)} is ${version} but ${basename(other.file)} is ${other.version}: the bundle and the single executable of one release must be the same version`);
  const kind: AgentBuildKind = exe && bundle ? 'bundle+executable' : exe ? 'executable' : 'bundle';

  const stage = mkdtempSync(join(tmpdir(), 'slipway-agent-build-'));
  try {
    mkdirSync(join(stage, 'bin'));
    const files = ['bin', 'package.json'];
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify({ name: 'slipway', version, private: true }, null, 1)}\n`);
    if (exe) {
      copyFileSync(exe.file, join(stage, 'bin', 'slipway-agent'));
      files.push('bin/slipway-agent');
    }
    if (bundle) {
      copyFileSync(bundle.file, join(stage, 'bin', 'slipway-agent.mjs'));
      files.push('bin/slipway-agent.mjs');
      for (const name of BESIDE_BUNDLE) {
        const f = join(dirname(bundle.file), name);
        if (!existsSync(f)) continue;
        copyFileSync(f, join(stage, 'bin', name));
        files.push(`bin/${name}`);
      }
    }
    files.sort();
    const commits = await Promise.all(programs.map((p) => sha256File(p.file)));
    const manifest = {
      app: AGENT_APP, version,
      git: { commit: commits.length === 1 ? commits[0] : sha256Hex(commits.join('\n')), tag: `agent-${version}` },
      source_date: FIXED_TIME.toISOString(),
      run: { command: [exe ? 'bin/slipway-agent' : 'bin/slipway-agent.mjs'] },
      tasks: {},
    };
    const manifestJson = `${JSON.stringify(manifest, null, 2)}\n`;
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, tarballName(AGENT_APP, version));
    await packRelease(stage, files, manifestJson, file, FIXED_TIME);
    const sha256 = await sha256File(file);
    const size = statSync(file).size;
    const source = programs.map((p) => basename(p.file)).join(' + ');
    const meta: AgentReleaseMeta = { schema: 1, version, sha256, size, kind, source, manifest_sha256: sha256Hex(manifestJson) };
    writeFileSync(`${file}${META_SUFFIX}`, `${JSON.stringify(meta, null, 1)}\n`);
    const signature = signingKey ? signRelease(readPrivateKey(signingKey), { app: AGENT_APP, version, sha256, manifest_sha256: meta.manifest_sha256 }) : undefined;
    return { app: AGENT_APP, version, file, sha256, size, signature, kind, source };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * --to VERSION that neither this CLI nor its packed releases have: the
 * release the hosts keep of it (ListReleases of the reserved app), when every
 * host has it and they agree on its sha256. Pure: `held` is each host's list.
 */
export function releaseKeptOnHosts(version: string, held: ReadonlyMap<string, readonly { version: string; sha256: string; size: number | string }[]>): AgentRelease | { missing: string[]; conflict?: string } {
  const missing: string[] = [];
  const shas = new Map<string, number>();
  let size = 0;
  for (const [host, releases] of held) {
    const r = releases.filter((x) => x.version === version);
    if (r.length === 0) missing.push(host);
    for (const x of r) {
      shas.set(x.sha256, (shas.get(x.sha256) ?? 0) + 1);
      size = Number(x.size);
    }
  }
  if (missing.length > 0) return { missing };
  if (shas.size !== 1) return { missing: [], conflict: `the hosts keep ${shas.size} different builds of ${version} (sha256 ${[...shas.keys()].map((s) => s.slice(0, 12)).join(', ')})` };
  return { app: AGENT_APP, version, sha256: [...shas.keys()][0], size, kind: '', source: 'kept on the hosts' };
}
