// Unpacked releases: apps/<app>/releases/<version>-<sha12>/. A directory
// counts only with its completion marker (written last, holding the full
// sha256); one without it is removed and unpacked again, and that is logged.
import { mkdir, readFile, rm, rename } from 'node:fs/promises';
import { readJsonOrUndefined, readdirOrEmpty, exists } from '../../common/fs-soft.js';
import { join } from 'node:path';
import { SlipwayError } from '../../common/errors.js';
import { MANIFEST_FILE, manifestSchema, formatIssues, type Manifest } from '../../common/manifest.js';
import { writeFileAtomic, fsyncDir } from '../../common/atomic.js';
import { sha256Hex } from '../../common/signing.js';
import { AppPaths, MARKER_FILE, appsDir, tempEntryName, isLeftover } from '../paths.js';
import { unpackTarball, type UnpackLimits } from './unpack/index.js';
import { secureAppDir, lockDownRelease } from './permissions.js';
import type { ReleaseStore, StoredMeta } from './store.js';
import type { Logger } from '../logger.js';

export interface Marker {
  app: string;
  version: string;
  sha256: string;
  unpacked_at: string;
  entries: number;
  bytes: number;
}

export interface Release {
  app: string;
  version: string;
  sha256: string;
  dir: string;
  manifest: Manifest;
}

export interface ReleaseListing {
  app: string;
  version: string;
  sha256: string;
  size: number;
  stored: boolean;
  unpacked: boolean;
  stored_at: string;
}

export class Releases {
  /** Unpacks in progress, shared by every caller that asks for the same release meanwhile. */
  private readonly inFlight = new Map<string, UnpackJob>();
  /** Releases being pruned (app/sha256): an unpack of one waits until it is gone. */
  private readonly removing = new Map<string, Promise<void>>();

  /** unprivileged: when apps run as users of their own (app_user, app_users; agent root), release trees are made root-owned and read-only to them. */
  constructor(
    private readonly stateDir: string,
    private readonly store: ReleaseStore,
    private readonly limits: UnpackLimits,
    private readonly log: Logger,
    private readonly unprivileged = false,
  ) {}

  /** The complete unpacked release, or undefined. */
  async read(app: string, version: string, sha256: string): Promise<Release | undefined> {
    const p = new AppPaths(this.stateDir, app);
    const marker = await readMarker(p.marker(version, sha256));
    if (!marker || marker.sha256 !== sha256) return undefined;
    const dir = p.release(version, sha256);
    return { app, version, sha256, dir, manifest: await readManifest(dir, app, version) };
  }

  /**
   * The release, unpacked from the store if needed. `onUnpack` is called
   * when unpacking begins (the activation's `unpacking` event). An abort of
   * `signal` ends this caller's wait (ABORTED); the unpack itself stops (and
   * leaves nothing) once no caller waits for it any more.
   */
  ensureUnpacked(app: string, version: string, sha256: string, onUnpack?: () => void, signal?: AbortSignal): Promise<Release> {
    const key = `${app}/${version}/${sha256}`;
    let job = this.inFlight.get(key);
    // One that every caller gave up on is ending: a new caller gets a new one.
    if (!job || job.abort.signal.aborted) {
      const abort = new AbortController();
      const removal = this.removing.get(`${app}/${sha256}`);
      const unpack = () => this.unpack(app, version, sha256, onUnpack, abort.signal);
      const release: Promise<Release> = (removal ? removal.then(unpack) : unpack()).finally(() => {
        if (this.inFlight.get(key) === started) this.inFlight.delete(key);
      });
      const started: UnpackJob = { release, abort, waiting: 0 };
      job = started;
      this.inFlight.set(key, job);
    }
    return waitForUnpack(job, signal);
  }

  private async unpack(app: string, version: string, sha256: string, onUnpack: (() => void) | undefined, signal: AbortSignal): Promise<Release> {
    const done = await this.read(app, version, sha256);
    if (done) return done;
    const p = new AppPaths(this.stateDir, app);
    const dir = p.release(version, sha256);
    if (await exists(dir)) {
      this.log.warn({ app, version, sha256, dir }, 'release directory has no completion marker (an interrupted unpack); removing it and unpacking again');
      await rm(dir, { recursive: true, force: true });
    }
    const stored = await this.store.lookup(app, sha256);
    if (!stored) {
      throw new SlipwayError('SLIPWAY_ERR_RELEASE_NOT_FOUND', `release ${app} ${version} (sha256 ${sha256.slice(0, 12)}…) is not on this host; upload it first`);
    }
    if (stored.version !== version) {
      throw new SlipwayError('SLIPWAY_ERR_BAD_RELEASE', `sha256 ${sha256.slice(0, 12)}… was uploaded as ${app} ${stored.version}, not ${version}`);
    }
    // Signed releases (agent/storage/signatures.ts): the stored signature must still verify against today's trusted_keys.
    this.store.verifier?.check({
      app, version, sha256, manifest_sha256: stored.manifest_sha256 ?? '', key_id: stored.key_id ?? '', signature: Buffer.from(stored.signature ?? '', 'base64'),
    });
    onUnpack?.();
    await mkdir(p.releases, { recursive: true });
    await secureAppDir(p, this.unprivileged);
    const tmp = join(p.releases, tempEntryName('unpack'));
    const started = Date.now();
    // What a failure leaves to remove: the temp tree, or once renamed, the release's directory.
    let made = tmp;
    try {
      const result = await unpackTarball(p.tarball(sha256), tmp, { limits: this.limits, signal });
      if (stored.manifest_sha256) await checkManifestDigest(tmp, app, version, stored.manifest_sha256);
      await readManifest(tmp, app, version);
      // Before it gets its name: app_user can read and run the tree, never change it.
      if (this.unprivileged) await lockDownRelease(tmp);
      await rename(tmp, dir);
      made = dir;
      await fsyncDir(p.releases);
      const marker: Marker = { app, version, sha256, unpacked_at: new Date().toISOString(), entries: result.entries, bytes: result.bytes };
      await writeFileAtomic(join(dir, MARKER_FILE), `${JSON.stringify(marker, null, 1)}\n`);
      const release = await this.read(app, version, sha256);
      if (!release) throw new SlipwayError('SLIPWAY_ERR_INTERNAL', `release ${app} ${version} has no readable completion marker right after unpacking`);
      this.log.info({ app, version, sha256, entries: result.entries, bytes: result.bytes, ms: Date.now() - started, verify_threads: result.profile.verifyThreads, verified_early: result.profile.verifiedEarly }, 'release unpacked');
      return release;
    } catch (err) {
      // Nothing half-made stays: not the temp tree, nor a renamed directory whose marker could not be written.
      await rm(made, { recursive: true, force: true });
      if (made === dir) this.log.warn({ app, version, sha256, dir, err: (err as Error).message }, 'release directory removed: unpacking failed after it got its name');
      throw err;
    }
  }

  /** Every release of an app that is stored or unpacked. */
  async list(app: string): Promise<ReleaseListing[]> {
    const p = new AppPaths(this.stateDir, app);
    const byKey = new Map<string, ReleaseListing>();
    for (const name of await readdirOrEmpty(p.store)) {
      const m = /^([0-9a-f]{64})\.json$/.exec(name);
      if (!m) continue;
      const meta = await readJsonOrUndefined<StoredMeta>(join(p.store, name));
      if (!meta || !(await exists(p.tarball(m[1])))) continue;
      byKey.set(m[1], { app, version: meta.version, sha256: meta.sha256, size: meta.size, stored: true, unpacked: false, stored_at: meta.stored_at });
    }
    for (const name of await readdirOrEmpty(p.releases)) {
      if (name.startsWith('.')) continue;
      const marker = await readMarker(join(p.releases, name, MARKER_FILE));
      if (!marker) continue;
      const prev = byKey.get(marker.sha256);
      byKey.set(marker.sha256, prev ? { ...prev, unpacked: true } : {
        app, version: marker.version, sha256: marker.sha256, size: 0, stored: false, unpacked: true, stored_at: marker.unpacked_at,
      });
    }
    return [...byKey.values()];
  }

  /** Apps that have a directory in the state dir. */
  async apps(): Promise<string[]> {
    return (await readdirOrEmpty(appsDir(this.stateDir))).filter((n) => !n.startsWith('.')).sort();
  }

  /** Temp leftovers of interrupted uploads and unpacks (never this agent's work in progress). */
  async tempLeftovers(app: string): Promise<string[]> {
    const p = new AppPaths(this.stateDir, app);
    const out: string[] = [];
    for (const dir of [p.store, p.releases, p.root]) {
      for (const name of await readdirOrEmpty(dir)) if (isLeftover(name)) out.push(join(dir, name));
    }
    return out;
  }

  /** Removes temp leftovers of interrupted uploads and unpacks. Returns how many. */
  async removeTempLeftovers(app: string): Promise<number> {
    const found = await this.tempLeftovers(app);
    for (const path of found) {
      await rm(path, { recursive: true, force: true });
      this.log.info({ app, path }, 'removed a leftover of interrupted work');
    }
    return found.length;
  }

  /**
   * Removes a release's directory, tarball and meta (prune). `removable` is
   * asked at the last moment, synchronously: from then until the files are
   * gone, an unpack of this release waits (and then finds it not on this
   * host). Returns false, removing nothing, when it says no or an unpack of
   * it is in progress.
   */
  remove(app: string, version: string, sha256: string, removable: () => boolean): Promise<boolean> {
    const key = `${app}/${sha256}`;
    if (this.removing.has(key) || this.inFlight.has(`${app}/${version}/${sha256}`) || !removable()) return Promise.resolve(false);
    const p = new AppPaths(this.stateDir, app);
    const done = (async () => {
      await rm(p.tarball(sha256), { force: true });
      await rm(p.tarballMeta(sha256), { force: true });
      // Renamed aside first, so that a kill midway never leaves a release
      // directory with its marker but not all its files (a leftover instead,
      // which the next reconcile removes).
      const aside = join(p.releases, tempEntryName('prune'));
      try {
        await rename(p.release(version, sha256), aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      await rm(aside, { recursive: true, force: true });
    })();
    const settled = done.finally(() => this.removing.delete(key));
    this.removing.set(key, settled.catch(() => undefined));
    return settled.then(() => true);
  }
}

/** An unpack shared by its callers; `waiting` counts those who may still give up (one without a signal never does). */
interface UnpackJob {
  release: Promise<Release>;
  abort: AbortController;
  waiting: number;
}

function waitForUnpack(job: UnpackJob, signal?: AbortSignal): Promise<Release> {
  if (!signal) {
    job.waiting = Infinity;
    return job.release;
  }
  job.waiting++;
  return new Promise((resolve, reject) => {
    const giveUp = () => {
      if (--job.waiting === 0) job.abort.abort();
      reject(new SlipwayError('SLIPWAY_ERR_CANCELLED', 'unpacking was aborted'));
    };
    if (signal.aborted) return giveUp();
    signal.addEventListener('abort', giveUp, { once: true });
    job.release.then(resolve, reject).finally(() => signal.removeEventListener('abort', giveUp));
  });
}

/** The signed manifest digest against the slipway.json that was unpacked (its bytes, as signed). */
async function checkManifestDigest(dir: string, app: string, version: string, expected: string): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, MANIFEST_FILE));
  } catch {
    throw new SlipwayError('SLIPWAY_ERR_SIGNATURE', `release ${app} ${version} is signed for a manifest, but it holds no ${MANIFEST_FILE}`);
  }
  const got = sha256Hex(bytes);
  if (got !== expected) {
    throw new SlipwayError('SLIPWAY_ERR_SIGNATURE', `the ${MANIFEST_FILE} of release ${app} ${version} has sha256 ${got.slice(0, 16)}…, not the signed ${expected.slice(0, 16)}…; refusing it`);
  }
}

async function readManifest(dir: string, app: string, version: string): Promise<Manifest> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8'));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it has none' : `it cannot be read (${(err as Error).message})`;
    throw new SlipwayError('SLIPWAY_ERR_BAD_RELEASE', `release ${app} ${version} is not a slipway release: ${MANIFEST_FILE} at its root is required and ${why}`);
  }
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) {
    throw new SlipwayError('SLIPWAY_ERR_BAD_RELEASE', `release ${app} ${version} has a bad ${MANIFEST_FILE}: ${formatIssues(parsed.error.issues).join('; ')}`);
  }
  if (parsed.data.app !== app || parsed.data.version !== version) {
    throw new SlipwayError('SLIPWAY_ERR_BAD_RELEASE', `release uploaded as ${app} ${version} says it is ${parsed.data.app} ${parsed.data.version} in its ${MANIFEST_FILE}`);
  }
  return parsed.data;
}

async function readMarker(file: string): Promise<Marker | undefined> {
  return readJsonOrUndefined<Marker>(file);
}
