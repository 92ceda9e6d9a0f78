// `slipway deploy ENV VERSION`, carried out: upload to every host (in
// parallel, bounded, only where the sha256 is missing), run before_activate
// once, then the rollout (executor.ts) and a last look at what each host
// runs. Every step is an event; the result is each host's record.
import type { Batch } from '../plans.js';
import { eachHost, failureJson } from './bounded.js';
import { activationStep, runRollout, settle, type HostSet, type HostStep, type StatusLink } from './executor.js';
import { HostRecords, type HostDeploy } from './records.js';
import type { Emit, UploadChannel } from './events.js';
import type { LocalRelease } from '../release-file.js';
import type { UploadMetaInput } from '../client.js';
import * as grpc from '@grpc/grpc-js';
import { HostError } from '../call.js';

/** A connection that can also list and receive releases. */
export interface DeployLink extends StatusLink {
  listReleases(app?: string): Promise<{ sha256: string; stored: boolean; unpacked: boolean }[]>;
  upload(file: string, meta: UploadMetaInput, onBytes?: (sent: number) => void): Promise<{ bytes_received: string; already_stored: boolean; channel: UploadChannel; fallback?: string }>;
  /** The agent pulls the release from the artifact store instead (coordinator/upload.ts). */
  fetchFromStore?(url: string, meta: UploadMetaInput, onBytes?: (received: number) => void): Promise<{ bytes_received: string; already_stored: boolean; channel: UploadChannel; fallback?: string }>;
}

/** What every rollout (deploy, rollback) is run with. */
export interface RolloutOptions {
  strategy: string;
  requestedBy: string;
  activateTimeoutMs: number;
  batch: Batch;
  pauseS: number;
  revert: 'all' | 'batch';
  /** How long a revert asks a host whose outcome was unknown what it runs (executor.ts). */
  unknownGraceMs?: number;
  emit: Emit;
  /** True once the operator pressed Ctrl-C: stop after the current batch. */
  interrupted?: () => boolean;
  sleep?: (ms: number) => Promise<void>;
}

export interface DeployOptions<L extends DeployLink> extends RolloutOptions {
  uploadOnly: boolean;
  /** The artifact store's URL for this release (published already): each agent fetches it instead of being sent the bytes. */
  storeUrl?: string;
  /** Runs once, after every host has the release and before any is switched (slipway.yaml's before_activate); throws to stop the deploy. */
  beforeActivate?: (first: L) => Promise<void>;
}

export interface RolloutResult {
  hosts: HostDeploy[];
  /** The hosts by batch, as planned; empty when no host was to be switched. */
  batches: string[][];
  interrupted: boolean;
}

export async function deploy<L extends DeployLink>(fleet: HostSet<L>, rel: LocalRelease, opts: DeployOptions<L>): Promise<RolloutResult> {
  const records = new HostRecords(fleet.connections.map((c) => c.host));
  const emit: Emit = (e) => { records.apply(e); opts.emit(e); };
  const done = (batches: string[][] = [], interrupted = false): RolloutResult => ({ hosts: records.list(), batches, interrupted });

  const before = new Map<string, HostStep['from']>();
  const uploads = await eachHost(fleet.connections, fleet.concurrency, async (conn) => {
    const [present, status] = await Promise.all([conn.listReleases(rel.app), conn.status()]);
    const app = status.apps.find((a) => a.app === rel.app);
    const was = app?.desired_version ? { version: app.desired_version, sha256: app.desired_sha256 } : null;
    before.set(conn.host, was);
    emit({ type: 'inspected', host: conn.host, before: was });
    if (present.some((x) => x.sha256 === rel.sha256 && (x.stored || x.unpacked))) {
      emit({ type: 'upload_skipped', host: conn.host, release: { app: rel.app, version: rel.version, sha256: rel.sha256 } });
      return;
    }
    emit({ type: 'upload_started', host: conn.host, size: rel.size, ...(opts.storeUrl && conn.fetchFromStore ? { via: 'store' as const } : {}) });
    const progress = (sent: number) => emit({ type: 'upload_progress', host: conn.host, sent, size: rel.size });
    const res = opts.storeUrl && conn.fetchFromStore ? await fetchOrPush(conn, opts.storeUrl, rel, progress) : await conn.upload(rel.file, rel, progress);
    emit({ type: 'upload_done', host: conn.host, bytes: Number(res.bytes_received), alreadyStored: res.already_stored, channel: res.channel, ...(res.fallback ? { fallback: res.fallback } : {}) });
  });
  for (const u of uploads) if (!u.ok) emit({ type: 'upload_failed', host: u.host, error: failureJson(u.error) });
  if (opts.uploadOnly) {
    for (const u of uploads) if (u.ok) emit({ type: 'uploaded', host: u.host });
    return done();
  }
  if (uploads.some((u) => !u.ok)) {
    emit({ type: 'stopped_before_activation', why: 'uploads_incomplete', message: 'not every host has the release, so no host was switched' });
    return done();
  }

  if (opts.beforeActivate) {
    const first = fleet.connections[0];
    try {
      await opts.beforeActivate(first);
    } catch (err) {
      emit({ type: 'stopped_before_activation', why: 'before_activate_failed', message: `before_activate failed on ${first.host}, so no host was switched: ${(err as Error).message}` });
      return done();
    }
  }

  const to = { version: rel.version, sha256: rel.sha256, undo: false };
  const rollout = {
    app: rel.app, name: 'deploy', batch: opts.batch, pauseS: opts.pauseS, revert: opts.revert,
    strategy: opts.strategy, requestedBy: opts.requestedBy, timeoutMs: opts.activateTimeoutMs, unknownGraceMs: opts.unknownGraceMs,
    steps: fleet.connections.map((c) => activationStep(c.host, before.get(c.host) ?? null, to, 'deploy')),
  };
  const report = await runRollout(rollout, fleet, { emit, interrupted: opts.interrupted, sleep: opts.sleep });
  await settle(fleet, rollout, report, emit);
  return done(report.batches, report.interrupted);
}

/** The agent fetches from the store; an agent without Fetch (older) is pushed to instead, and the result says why. */
async function fetchOrPush(conn: DeployLink, url: string, rel: LocalRelease, progress: (n: number) => void): ReturnType<DeployLink['upload']> {
  try {
    return await conn.fetchFromStore!(url, rel, progress);
  } catch (err) {
    if (!(err instanceof HostError) || err.status !== grpc.status.UNIMPLEMENTED) throw err;
    return { ...await conn.upload(rel.file, rel, progress), fallback: `pushed: ${err.message}` };
  }
}
