// `slipway build [VERSION]`: a reproducible release tarball from a git tag,
// built in a fresh worktree of the tagged commit so that nothing in the
// operator's working tree can block or leak into it.
import { join, resolve } from 'node:path';
import { rm, writeFile, rename } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import { readPrivateKey, signRelease, sha256Hex, SIGNATURE_SUFFIX, type SignedFields } from '../../common/signing.js';
import { manifestSchema, formatIssues, type Manifest } from '../../common/manifest.js';
import type { SlipwayConfig } from '../config.js';
import { BuildError } from './errors.js';
import { addWorktree, cleanGitEnv, commitTime, fileAt, listTags, repoInfo, tagCommit, tagsAt } from './git.js';
import { latestTagsHint, packageVersionProblem, parseRequestedVersion, pickHeadTag, tagCandidates } from './tags.js';
import { runBuildCommand, describeCommand } from './command.js';
import { collectReleaseFiles } from './files.js';
import { packRelease } from './pack.js';

export { BuildError } from './errors.js';

function signingKeyOrFail(file: string): KeyObject {
  try {
    return readPrivateKey(file);
  } catch (err) {
    throw new BuildError(`signing_key: ${(err as Error).message}`, { usage: true });
  }
}

/** Writes `<tarball>.sig` (or removes a stale one when the build is unsigned), atomically. */
async function writeSignature(tarball: string, key: KeyObject | undefined, fields: SignedFields): Promise<BuildResult['signature']> {
  const file = `${tarball}${SIGNATURE_SUFFIX}`;
  if (!key) {
    await rm(file, { force: true });
    return null;
  }
  const sig = signRelease(key, fields);
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(sig, null, 2)}\n`);
  await rename(tmp, file);
  return { file, key_id: sig.key_id, manifest_sha256: sig.manifest_sha256 };
}

export interface BuildOptions {
  /** The app's directory: where slipway.yaml is (may be below the repository's top). */
  root: string;
  config: SlipwayConfig;
  configFile: string;
  /** The version (or tag) to build; default: the version tag on HEAD. */
  version?: string;
  /** Default: <root>/.slipway/releases */
  outDir?: string;
  /** Progress lines, including the build command's output. */
  log?: (line: string) => void;
  /** The ed25519 private key (PEM file) that signs the release; none: unsigned (agents then need allow_unsigned). */
  signingKey?: string;
}

export interface BuildResult {
  app: string;
  version: string;
  tag: string;
  commit: string;
  /** The tagged commit's committer time, ISO-8601 UTC. */
  sourceDate: string;
  /** Absolute path of the .tar.gz. */
  tarball: string;
  sha256: string;
  size: number;
  /** Entries in the archive (slipway.json, files, directories, symlinks). */
  files: number;
  notes: string[];
  /** `<tarball>.sig` when the release was signed (signing_key). */
  signature: { file: string; key_id: string; manifest_sha256: string } | null;
}

/** `<app>-<version>.tar.gz` */
export function tarballName(app: string, version: string): string {
  return `${app}-${version}.tar.gz`;
}

/** ISO-8601 UTC without milliseconds, from seconds since the epoch. */
export function isoFromEpoch(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

export interface ManifestFacts {
  version: string;
  commit: string;
  tag: string;
  sourceDate: string;
}

/** The manifest for a build, checked against the schema the agent uses. */
export function buildManifest(config: SlipwayConfig, facts: ManifestFacts, configFile = 'slipway.yaml'): Manifest {
  const candidate = {
    app: config.app,
    version: facts.version,
    git: { commit: facts.commit, tag: facts.tag },
    source_date: facts.sourceDate,
    run: config.run,
    tasks: config.tasks,
  };
  const parsed = manifestSchema.safeParse(candidate);
  if (!parsed.success) {
    throw new BuildError(`the manifest would not be valid (check run and tasks in ${configFile}):\n${formatIssues(parsed.error.issues).map((l) => `  - ${l}`).join('\n')}`);
  }
  return parsed.data;
}

/** Manifest JSON with keys in a fixed order (the schema's), two-space indented, newline-terminated. */
export function manifestJson(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

interface ResolvedTag {
  version: string;
  tag: string;
  commit: string;
  notes: string[];
}

async function resolveTag(root: string, requested: string | undefined): Promise<ResolvedTag> {
  if (requested === undefined) {
    const head = pickHeadTag(await tagsAt(root, 'HEAD'), await listTags(root));
    const commit = await tagCommit(root, head.tag);
    if (!commit) throw new BuildError(`tag ${head.tag} does not point at a commit`);
    return { ...head, commit };
  }
  const { version, notes } = parseRequestedVersion(requested);
  const found: { tag: string; commit: string }[] = [];
  for (const tag of tagCandidates(version)) {
    const commit = await tagCommit(root, tag);
    if (commit) found.push({ tag, commit });
  }
  if (found.length === 0) {
    throw new BuildError(`no git tag ${version} (or v${version})${latestTagsHint(await listTags(root))}`, { usage: true });
  }
  if (found.length > 1 && found[0].commit !== found[1].commit) {
    throw new BuildError(`tags ${found[0].tag} and ${found[1].tag} point at different commits (${found[0].commit.slice(0, 12)}, ${found[1].commit.slice(0, 12)}): delete one`);
  }
  // Prefer the tag spelled as asked ("v1.2.3" when asked for v1.2.3).
  const pick = found.find((f) => f.tag === requested.trim()) ?? found[0];
  const tagNote = pick.tag !== version && !notes.some((n) => n.includes(`"${pick.tag}"`)) ? [`tag "${pick.tag}" read as version ${version}`] : [];
  return { version, tag: pick.tag, commit: pick.commit, notes: [...notes, ...tagNote] };
}

export async function buildRelease(opts: BuildOptions): Promise<BuildResult> {
  const log = opts.log ?? (() => {});
  const root = resolve(opts.root);
  const { config } = opts;
  const repo = await repoInfo(root);
  const { version, tag, commit, notes } = await resolveTag(root, opts.version);

  const problem = packageVersionProblem(await fileAt(root, commit, `${repo.prefix}package.json`), version, tag);
  if (problem) throw new BuildError(problem);

  const epoch = await commitTime(root, commit);
  const sourceDate = isoFromEpoch(epoch);
  const manifest = buildManifest(config, { version, commit, tag, sourceDate }, opts.configFile);
  const outDir = resolve(root, opts.outDir ?? join('.slipway', 'releases'));
  const tarball = join(outDir, tarballName(config.app, version));
  // Read the key before the (long) build, so a bad key path fails at once.
  const key = opts.signingKey ? signingKeyOrFail(opts.signingKey) : undefined;

  log(`building ${config.app} ${version} from tag ${tag} (commit ${commit.slice(0, 12)}, ${sourceDate})`);
  const worktree = await addWorktree(root, commit);
  try {
    const buildDir = join(worktree.dir, repo.prefix);
    const command = config.build.command;
    if (command !== undefined && command !== '') {
      log(`$ ${describeCommand(command)}`);
      const env = { ...cleanGitEnv(), SOURCE_DATE_EPOCH: String(epoch), SLIPWAY_APP: config.app, SLIPWAY_VERSION: version };
      await runBuildCommand(command, { cwd: buildDir, env, timeoutMs: config.build.timeout_s * 1000, log });
    }
    const { paths } = await collectReleaseFiles(buildDir, config.build.include);
    log(`packing ${paths.length + 1} entries (slipway.json and build.include) into ${tarball}`);
    const mjson = manifestJson(manifest);
    const packed = await packRelease(buildDir, paths, mjson, tarball, new Date(epoch * 1000));
    log(`${tarball}: ${packed.size} bytes, sha256 ${packed.sha256}`);
    const signature = await writeSignature(tarball, key, { app: config.app, version, sha256: packed.sha256, manifest_sha256: sha256Hex(mjson) });
    if (signature) log(`signed with key ${signature.key_id}: ${signature.file}`);
    return { app: config.app, version, tag, commit, sourceDate, tarball, ...packed, notes, signature };
  } finally {
    await worktree.remove();
  }
}
