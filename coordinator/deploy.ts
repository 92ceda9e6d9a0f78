// `slipway deploy ENV VERSION`: upload to every host (in parallel, only where
// the sha256 is missing), then activate every host, each on its own. Rolling
// batches and reverts come with the rollout work; this executor is the step
// they will drive.
import { color, formatBytes, Progress } from './output.js';
import type { Fleet } from './fleet.js';
import type { LocalRelease } from './release-file.js';
import type { AgentConnection } from './client.js';
import type { DeployEvent__Output } from '../proto/gen/slipway/v1/DeployEvent.js';

export interface HostDeploy {
  host: string;
  ok: boolean;
  upload: 'sent' | 'skipped' | 'failed' | 'not_started';
  uploaded_bytes: number;
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
}

export async function deploy(fleet: Fleet, rel: LocalRelease, opts: DeployOptions): Promise<HostDeploy[]> {
  const results = new Map<string, HostDeploy>(fleet.hosts.map((h) => [h, {
    host: h, ok: false, upload: 'not_started', uploaded_bytes: 0, state: '', pid: 0, events: [], output: [],
  }]));
  const p = opts.progress;

  const uploads = await fleet.each(async (conn) => {
    const r = results.get(conn.host) as HostDeploy;
    const present = await conn.listReleases(rel.app);
    if (present.some((x) => x.sha256 === rel.sha256 && (x.stored || x.unpacked))) {
      r.upload = 'skipped';
      p.line(conn.host, `already has ${rel.app} ${rel.version} (${rel.sha256.slice(0, 12)}): nothing to send`);
      return;
    }
    p.line(conn.host, `uploading ${formatBytes(rel.size)}`);
    const res = await conn.upload(rel.file, rel, (sent) => p.update(conn.host, sent, rel.size, 'upload'));
    r.upload = res.already_stored ? 'skipped' : 'sent';
    r.uploaded_bytes = Number(res.bytes_received);
    p.line(conn.host, res.already_stored ? 'already stored (found during upload)' : `uploaded ${formatBytes(r.uploaded_bytes)}`);
  });
  for (const u of uploads) {
    if (!u.ok) {
      const r = results.get(u.host) as HostDeploy;
      r.upload = 'failed';
      r.error = { message: u.error.message, unreachable: u.error.unreachable };
      p.line(u.host, color.bad(`upload failed: ${u.error.message}`));
    }
  }
  if (opts.uploadOnly) {
    for (const r of results.values()) if (!r.error) r.ok = true;
    return [...results.values()];
  }

  const ready = new Set(uploads.filter((u) => u.ok).map((u) => u.host));
  await fleet.each(async (conn: AgentConnection) => {
    if (!ready.has(conn.host)) return;
    const r = results.get(conn.host) as HostDeploy;
    try {
      const last = await conn.activate(
        { app: rel.app, version: rel.version, sha256: rel.sha256, strategy: opts.strategy, reason: 'deploy', requested_by: opts.requestedBy },
        (ev: DeployEvent__Output) => {
          r.events.push({ event: ev.event, at: ev.at, message: ev.message });
          if (ev.pid) r.pid = ev.pid;
          const text = `${ev.event.padEnd(9)} ${ev.message}`;
          p.line(conn.host, ev.event === 'failed' ? color.bad(text) : ev.event === 'done' ? color.ok(text) : text);
          if (ev.event === 'failed') {
            r.output = ev.output;
            for (const line of ev.output) p.line(conn.host, color.dim(`  | ${line}`));
          }
        },
        opts.activateTimeoutMs,
      );
      r.ok = last?.event === 'done';
      if (!r.ok) r.error = { message: last?.message || 'the activation ended without an outcome', unreachable: false };
    } catch (err) {
      const e = err as { message: string; unreachable?: boolean };
      r.error = { message: e.message, unreachable: e.unreachable ?? false };
      p.line(conn.host, color.bad(`activation failed: ${e.message}`));
    }
  });
  // What each host runs now, for the summary.
  await fleet.each(async (conn) => {
    const r = results.get(conn.host) as HostDeploy;
    if (r.upload === 'failed') return;
    const st = await conn.status(rel.app);
    const app = st.apps.find((a) => a.app === rel.app);
    r.state = app ? `${app.state} ${app.version}`.trim() : '';
    if (app?.pid) r.pid = app.pid;
    if (r.ok && app?.version !== rel.version) {
      r.ok = false;
      r.error = { message: `host runs ${app?.version || 'nothing'} after the activation`, unreachable: false };
    }
  });
  return [...results.values()];
}
