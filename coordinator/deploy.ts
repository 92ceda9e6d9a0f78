// `slipway deploy ENV VERSION`, carried out: upload to every host (in
// parallel, only where the sha256 is missing), then activate batch by batch
// as planned (plans.ts); when a host fails, stop and put back what the plan
// says, so the fleet is consistent again.
import { color, formatBytes, type Progress } from './output.js';
import { planBatches, planRevert, type Batch, type HostResult, type ReleaseRef } from './plans.js';
import type { Fleet } from './fleet.js';
import type { LocalRelease } from './release-file.js';
import type { AgentConnection } from './client.js';
import type { DeployEvent__Output } from '../proto/gen/slipway/v1/DeployEvent.js';
import type { ActivateRequest } from '../proto/gen/slipway/v1/ActivateRequest.js';

export type Outcome = 'switched' | 'failed' | 'reverted' | 'revert_failed' | 'not_reached' | 'upload_failed' | 'uploaded';

export interface HostDeploy {
  host: string;
  ok: boolean;
  outcome: Outcome;
  upload: 'sent' | 'skipped' | 'failed' | 'not_started';
  uploaded_bytes: number;
  /** How the bytes went: the agent's data port, or gRPC's Upload stream (an older agent, upload_listen: false, or the data port out of reach); null when none were sent. */
  upload_channel: 'data-port' | 'grpc' | null;
  /** Why they went over gRPC rather than the data port. */
  upload_fallback?: string;
  /** What the host ran before this deploy. */
  before: ReleaseRef | null;
  state: string;
  pid: number;
  events: { event: string; at: string; message: string }[];
  output: string[];
  error?: { message: string; unreachable: boolean };
}

export interface DeployOptions {
  strategy: string;
  requestedBy: string;
  uploadOnly: boolean;
  activateTimeoutMs: number;
  progress: Progress;
  batch: Batch;
  pauseS: number;
  revert: 'all' | 'batch';
  /** Set when the operator pressed Ctrl-C: stop after the current batch. */
  interrupted?: () => boolean;
  /** Runs once, after every host has the release and before any is switched (slipway.yaml's before_activate); throws to stop the deploy. */
  beforeActivate?: (first: AgentConnection) => Promise<void>;
  sleep?: (ms: number) => Promise<void>;
}

function newResult(host: string): HostDeploy {
  return { host, ok: false, outcome: 'not_reached', upload: 'not_started', uploaded_bytes: 0, upload_channel: null, before: null, state: '', pid: 0, events: [], output: [] };
}

export async function deploy(fleet: Fleet, rel: LocalRelease, opts: DeployOptions): Promise<HostDeploy[]> {
  const results = new Map<string, HostDeploy>(fleet.hosts.map((h) => [h, newResult(h)]));
  const p = opts.progress;
  const byHost = new Map(fleet.connections.map((c) => [c.host, c]));

  const uploads = await fleet.each(async (conn) => {
    const r = results.get(conn.host) as HostDeploy;
    const [present, status] = await Promise.all([conn.listReleases(rel.app), conn.status()]);
    const app = status.apps.find((a) => a.app === rel.app);
    if (app?.desired_version) r.before = { version: app.desired_version, sha256: app.desired_sha256 };
    if (present.some((x) => x.sha256 === rel.sha256 && (x.stored || x.unpacked))) {
      r.upload = 'skipped';
      p.line(conn.host, `already has ${rel.app} ${rel.version} (${rel.sha256.slice(0, 12)}): nothing to send`);
      return;
    }
    p.line(conn.host, `uploading ${formatBytes(rel.size)}`);
    const res = await conn.upload(rel.file, rel, (sent) => p.update(conn.host, sent, rel.size, 'upload'));
    r.upload = res.already_stored ? 'skipped' : 'sent';
    r.uploaded_bytes = Number(res.bytes_received);
    const how = conn.lastUpload;
    if (how && how.channel !== 'stored') r.upload_channel = how.channel;
    if (how?.fallback) {
      r.upload_fallback = how.fallback;
      // Slower, and a sign of a firewall or an old agent: say so rather than fall back in silence.
      p.line(conn.host, color.warn(`sent over gRPC, not the data port: ${how.fallback}`));
    }
    p.line(conn.host, res.already_stored ? 'already stored (found during upload)' : `uploaded ${formatBytes(r.uploaded_bytes)}`);
  });
  for (const u of uploads) {
    if (u.ok) continue;
    const r = results.get(u.host) as HostDeploy;
    Object.assign(r, { upload: 'failed', outcome: 'upload_failed', error: { message: u.error.message, unreachable: u.error.unreachable } });
    p.line(u.host, color.bad(`upload failed: ${u.error.message}`));
  }
  if (opts.uploadOnly || uploads.some((u) => !u.ok)) {
    if (!opts.uploadOnly) p.line('deploy', color.bad('not every host has the release, so no host was switched'));
    for (const r of results.values()) if (!r.error) Object.assign(r, { ok: opts.uploadOnly, outcome: opts.uploadOnly ? 'uploaded' : 'not_reached' });
    return [...results.values()];
  }

  if (opts.beforeActivate) {
    const first = fleet.connections[0];
    try {
      await opts.beforeActivate(first);
    } catch (err) {
      const message = `before_activate failed on ${first.host}, so no host was switched: ${(err as Error).message}`;
      p.line('deploy', color.bad(message));
      for (const r of results.values()) Object.assign(r, { outcome: 'not_reached', error: { message, unreachable: false } });
      return [...results.values()];
    }
  }

  const batches = planBatches(fleet.hosts, opts.batch);
  const hostResults = new Map<string, HostResult>(fleet.hosts.map((h) => [h, 'not_reached']));
  for (const [i, batch] of batches.entries()) {
    if (batches.length > 1) p.line(`batch ${i + 1}/${batches.length}`, batch.join(', '));
    await Promise.all(batch.map(async (host) => {
      const r = results.get(host) as HostDeploy;
      const ok = await activateOne(byHost.get(host) as AgentConnection, {
        app: rel.app, version: rel.version, sha256: rel.sha256, strategy: opts.strategy, reason: 'deploy', requested_by: opts.requestedBy, undo: false,
      }, r, p, opts.activateTimeoutMs);
      hostResults.set(host, ok ? 'switched' : 'failed');
      r.outcome = ok ? 'switched' : 'failed';
    }));
    if (batch.some((h) => hostResults.get(h) === 'failed')) break;
    if (opts.interrupted?.()) {
      p.line('deploy', color.warn('interrupted: stopping after this batch; hosts not reached keep their version'));
      break;
    }
    if (i < batches.length - 1 && opts.pauseS > 0) await (opts.sleep ?? sleep)(opts.pauseS * 1000);
  }

  const toRevert = planRevert(batches, hostResults, opts.revert);
  if (toRevert.length > 0) p.line('deploy', color.warn(`a host failed: putting ${toRevert.join(', ')} back (revert: ${opts.revert})`));
  await Promise.all(toRevert.map(async (host) => {
    const r = results.get(host) as HostDeploy;
    if (!r.before) {
      r.outcome = 'revert_failed';
      r.error = { message: 'ran nothing before this deploy, so there is nothing to put back', unreachable: false };
      return;
    }
    const ok = await activateOne(byHost.get(host) as AgentConnection, {
      app: rel.app, ...r.before, strategy: opts.strategy, reason: 'revert', requested_by: opts.requestedBy, undo: true,
    }, r, p, opts.activateTimeoutMs);
    r.outcome = ok ? 'reverted' : 'revert_failed';
  }));

  await fleet.each(async (conn) => {
    const r = results.get(conn.host) as HostDeploy;
    const st = await conn.status(rel.app);
    const app = st.apps.find((a) => a.app === rel.app);
    r.state = app ? `${app.state} ${app.version}`.trim() : '';
    if (app?.pid) r.pid = app.pid;
    r.ok = r.outcome === 'switched' && app?.version === rel.version && toRevert.length === 0;
    if (r.outcome === 'switched' && app?.version !== rel.version) {
      r.error = { message: `host runs ${app?.version || 'nothing'} after the activation`, unreachable: false };
    }
  });
  return [...results.values()];
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The Activate request, every field given. */
export type ActivateArgs = Required<ActivateRequest>;

/** One host's activation, its events shown as they come; true when it ended done (or rolled_back). */
export async function activateOne(conn: AgentConnection, req: ActivateArgs, r: HostDeploy, p: Progress, timeoutMs: number): Promise<boolean> {
  try {
    const last = await conn.activate(req, (ev: DeployEvent__Output) => {
      r.events.push({ event: ev.event, at: ev.at, message: ev.message });
      if (ev.pid) r.pid = ev.pid;
      const text = `${`+${ev.elapsed_s.toFixed(2)}s`.padStart(8)} ${ev.event.padEnd(11)} ${ev.message}`;
      p.line(conn.host, ev.event === 'failed' ? color.bad(text) : ev.event === 'done' || ev.event === 'rolled_back' ? color.ok(text) : text);
      if (ev.event === 'failed') {
        r.output = ev.output;
        for (const line of ev.output) p.line(conn.host, color.dim(`  | ${line}`));
      }
    }, timeoutMs);
    const ok = last?.event === 'done' || last?.event === 'rolled_back';
    if (!ok) r.error = { message: last?.message || 'the activation ended without an outcome', unreachable: false };
    else r.error = undefined;
    return ok;
  } catch (err) {
    const e = err as { message: string; unreachable?: boolean };
    r.error = { message: e.message, unreachable: e.unreachable ?? false };
    p.line(conn.host, color.bad(`activation failed: ${e.message}`));
    return false;
  }
}
