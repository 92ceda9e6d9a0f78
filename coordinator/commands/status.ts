// slipway status ENV [--watch] and slipway versions ENV: what runs, and what is there.
// Longer than ~300 lines on purpose: one answer (a host's Status) read three ways (the table, --json, --watch's redraw) from one set of rows; the column fitting is coordinator/table-fit.ts.
import * as grpc from '@grpc/grpc-js';
import type { Command } from 'commander';
import { environment, type LoadedConfig } from '../config.js';
import { Fleet, tlsFor, selectHosts, READ_CONCURRENCY, type Outcome } from '../fleet.js';
import { UsageError } from '../errors.js';
import { table, color, formatDuration, formatBytes } from '../output.js';
import { action, load, globals, printJson } from './common.js';
import { HostError, type AgentConnection } from '../client.js';
import type { StatusResponse__Output } from '../../proto/gen/slipway/v1/StatusResponse.js';
import type { HostFacts__Output } from '../../proto/gen/slipway/v1/HostFacts.js';
import { chooseColumns, cutLine, type ColumnSpec } from '../table-fit.js';
import { failureJson } from '../rollout/bounded.js';
import { unknownOutcomes, type UnknownOutcome } from '../unknown-outcomes.js';
import { formatTime } from '../../common/time.js';

/**
 * Every host of the environment (or the one --host names), READ_CONCURRENCY
 * at a time, each call with its own deadline from when it starts.
 */
function statusFleet(loaded: LoadedConfig, envName: string, hostFilter?: string): Fleet {
  const env = environment(loaded, envName);
  const hosts = selectHosts(envName, env, hostFilter);
  return new Fleet(hosts, tlsFor(loaded, envName, env), loaded.config.deadline_s * 1000, Math.max(1, Math.min(hosts.length, READ_CONCURRENCY)));
}

function askStatus(c: AgentConnection, app: string): Promise<StatusResponse__Output> {
  return c.status(app).catch((err: unknown) => {
    // An agent that never saw the app answers NOT_FOUND; that host is reachable and runs nothing.
    if (err instanceof HostError && err.status === grpc.status.NOT_FOUND) return c.status('').then((s) => ({ ...s, apps: [] }));
    throw err;
  });
}

const pct = (part: number, whole: number) => (whole > 0 ? Math.round((1000 * part) / whole) / 10 : null);

/** One host's line of `status --json` (docs/json-output.md). */
function hostEntry(o: Outcome<StatusResponse__Output>, app: string, now: number) {
  if (!o.ok) return { host: o.host, ok: false as const, error: failureJson(o.error) };
  const a = o.value.apps.find((x) => x.app === app);
  const ag = o.value.agent;
  const h = o.value.host;
  return {
    host: o.host, ok: true as const,
    agent: {
      version: ag?.version ?? '', hostname: ag?.hostname ?? '',
      uptime_s: ag?.started_at ? Math.max(0, (now - Date.parse(ag.started_at)) / 1000) : null,
      open_files_limit: Number(ag?.open_files_limit ?? 0) || null, warnings: ag?.warnings ?? [],
    },
    system: h ? {
      cpu_percent: Math.round(h.cpu_percent * 10) / 10, load1: h.load1,
      memory_total: Number(h.memory_total), memory_available: Number(h.memory_available),
      memory_used_percent: pct(Number(h.memory_total) - Number(h.memory_available), Number(h.memory_total)),
      disk_path: h.disk_path, disk_total: Number(h.disk_total), disk_free: Number(h.disk_free),
      disk_used_percent: pct(Number(h.disk_total) - Number(h.disk_free), Number(h.disk_total)),
      uptime_s: h.uptime_s, sampled_at: h.sampled_at,
    } : null,
    app: a ? {
      app: a.app, state: a.state, state_reason: a.state_reason, state_since: a.state_since || null,
      version: a.version, sha256: a.sha256, desired_version: a.desired_version, pid: a.pid, started_at: a.started_at,
      uptime_s: a.started_at ? Math.max(0, (now - Date.parse(a.started_at)) / 1000) : 0, restarts: a.restarts,
      cpu_percent: a.pid ? Math.round(a.cpu_percent * 10) / 10 : null, memory_rss: a.pid ? Number(a.memory_rss) : null,
      open_files_limit: Number(a.open_files_limit) || null, releases_present: a.releases_present,
      last_activation: a.last_activation,
    } : null,
    host_facts: hostFacts(o.value.facts),
  };
}

/** What the host is, as the agent read it at its start (the shape of the agent's HTTP /status host_facts); null from an agent that has not read them, or an older one. */
function hostFacts(f: HostFacts__Output | null | undefined) {
  if (!f) return null;
  return {
    os: { distro: f.os_distro, release: f.os_release, kernel: f.kernel, arch: f.arch },
    cpu: { manufacturer: f.cpu_manufacturer, brand: f.cpu_brand, cores: f.cpu_cores, physical_cores: f.cpu_physical_cores },
    memory_total: Number(f.memory_total), filesystems: f.filesystems.map((x) => ({ mount: x.mount, type: x.type, size: Number(x.size) })), read_at: f.read_at,
  };
}

type HostEntry = ReturnType<typeof hostEntry>;

/** A host's entry with the mark of an unknown outcome of the last deploy or rollback from here (coordinator/unknown-outcomes.ts). */
type MarkedEntry = HostEntry & { last_outcome_unknown: UnknownOutcome | null };

/** The whole `status --json` object, and its exit code; each host's entry also goes to onHost as soon as it answers (or fails). */
async function fleetStatus(fleet: Fleet, app: string, envName: string, marks: Record<string, UnknownOutcome>, onHost?: (h: MarkedEntry, done: number) => void) {
  let done = 0;
  const entries: MarkedEntry[] = new Array(fleet.hosts.length);
  await fleet.each((c) => askStatus(c, app), (o, i) => {
    entries[i] = { ...hostEntry(o, app, Date.now()), last_outcome_unknown: marks[o.host] ?? null };
    onHost?.(entries[i], ++done);
  });
  const now = Date.now();
  const hosts: MarkedEntry[] = entries;
  const ok = hosts.every((h) => h.ok);
  const versions = [...new Set(hosts.flatMap((h) => (h.ok && h.app?.version ? [h.app.version] : [])))].sort();
  const agentVersions = [...new Set(hosts.flatMap((h) => (h.ok && h.agent.version ? [h.agent.version] : [])))].sort();
  const notRunning = hosts.filter((h) => h.ok && h.app?.state !== 'running').map((h) => h.host);
  return {
    doc: {
      command: 'status', ok, app, env: envName, at: new Date(now).toISOString(),
      versions, mixed_versions: versions.length > 1, agent_versions: agentVersions, not_running: notRunning,
      unreachable: hosts.filter((h) => !h.ok).map((h) => h.host),
      unknown_outcome: hosts.filter((h) => h.last_outcome_unknown).map((h) => h.host), hosts,
    },
    code: ok ? 0 : 1,
  };
}

type StatusDoc = Awaited<ReturnType<typeof fleetStatus>>['doc'];

/**
 * The columns of the status table; on a terminal narrower than the table,
 * the highest `drop` goes first (output of a pipe keeps all). --wide adds
 * what the host is (its facts).
 */
const STATUS_COLUMNS: ColumnSpec[] = [
  { header: 'HOST', drop: 0 }, { header: 'APP', drop: 7 }, { header: 'VERSION', drop: 0 }, { header: 'STATE', drop: 0 },
  { header: 'PID', drop: 3 }, { header: 'UPTIME', drop: 2 }, { header: 'RESTARTS', drop: 1 }, { header: 'RSS', drop: 4 },
  { header: 'NOFILE', drop: 9 }, { header: 'CPU', drop: 5 }, { header: 'MEM', drop: 5 }, { header: 'DISK', drop: 6 }, { header: 'AGENT', drop: 8 },
];
const FACT_COLUMNS: ColumnSpec[] = [{ header: 'OS', drop: 10 }, { header: 'CPU MODEL', drop: 10 }, { header: 'RAM', drop: 10 }, { header: 'FILESYSTEMS', drop: 10 }];

/** A host's facts as the --wide columns show them. */
function factCells(f: HostEntry['host_facts'] | undefined): string[] {
  if (!f) return ['-', '-', '-', '-'];
  const cpu = [f.cpu.manufacturer, f.cpu.brand].filter(Boolean).join(' ');
  return [
    [f.os.distro, f.os.release, f.os.arch].filter(Boolean).join(' ') || '-',
    cpu ? `${cpu} ×${f.cpu.cores}` : '-',
    f.memory_total ? formatBytes(f.memory_total) : '-',
    f.filesystems.map((x) => `${x.mount} ${x.type} ${formatBytes(x.size)}`).join(', ') || '-',
  ];
}

export interface StatusView {
  /** The terminal's width: columns are dropped (least important first) and lines cut to fit it; undefined: all of them. */
  width?: number;
  /** --wide: every column, the host facts too, nothing cut. */
  wide?: boolean;
}

/** The table: not-running states, mixed versions and unreachable hosts stand out (colour on a terminal, a marker always). */
export function renderStatus(d: StatusDoc, view: StatusView = {}): string {
  const mixed = d.mixed_versions;
  const mixedAgents = d.agent_versions.length > 1;
  const rows = d.hosts.map((h) => {
    const hostCell = h.last_outcome_unknown ? color.warn(`${h.host} ?`) : h.host;
    if (!h.ok) {
      const what = h.error.unreachable ? 'unreachable' : 'error';
      // The reason goes in the last column shown (below), whichever that is.
      return { cells: [hostCell, d.app, '-', color.bad(`${what} !`), '-', '-', '-', '-', '-', '-', '-', '-', '-', ...(view.wide ? factCells(undefined) : [])], error: color.bad(h.error.message) };
    }
    const a = h.app;
    const s = h.system;
    const state = a?.state ?? 'not deployed';
    return { cells: [
      hostCell, d.app,
      a?.version ? (mixed ? color.warn(`${a.version} *`) : a.version) : '-',
      state === 'running' ? color.ok(state) : color.bad(`${state} !`),
      a?.pid ? String(a.pid) : '-',
      a?.pid ? formatDuration(a.uptime_s) : '-',
      String(a?.restarts ?? 0),
      a?.memory_rss ? formatBytes(a.memory_rss) : '-',
      a?.open_files_limit ? (a.open_files_limit < 65_536 ? color.warn(`${a.open_files_limit} !`) : String(a.open_files_limit)) : '-',
      s ? `${Math.round(s.cpu_percent)}%` : '-',
      s?.memory_used_percent != null ? `${Math.round(s.memory_used_percent)}%` : '-',
      s ? `${formatBytes(s.disk_free)} free` : '-',
      mixedAgents ? color.warn(`${h.agent.version} *`) : h.agent.version,
      ...(view.wide ? factCells(h.host_facts) : []),
    ] };
  });
  const specs = view.wide ? [...STATUS_COLUMNS, ...FACT_COLUMNS] : STATUS_COLUMNS;
  const width = view.wide ? undefined : view.width;
  const kept = chooseColumns(specs, rows.map((r) => r.cells), width);
  const shown = rows.map((r) => {
    const cells = kept.map((i) => r.cells[i]);
    if (r.error !== undefined) cells[cells.length - 1] = r.error;
    return cells;
  });
  const full = table(kept.map((i) => specs[i].header), shown).split('\n');
  const lines = full.map((l) => cutLine(l, width));
  const hidden = specs.filter((_, i) => !kept.includes(i)).map((s) => s.header);
  if (hidden.length > 0) lines.push(color.dim(cutLine(`(--wide shows ${hidden.join(' ')})`, width)));
  // A reason cut short in the table is said in full below it.
  rows.forEach((r, i) => { if (r.error !== undefined && lines[i + 1] !== full[i + 1]) lines.push(color.bad(`! ${d.hosts[i].host}: ${r.error}`)); });
  if (mixed) lines.push(color.warn(`* hosts run different versions of ${d.app}: ${d.versions.join(', ')}`));
  if (mixedAgents) lines.push(color.warn(`* hosts run different agent versions: ${d.agent_versions.join(', ')}`));
  const notRunning = d.not_running.length;
  if (notRunning > 0) lines.push(color.bad(`! ${d.app} is not running on ${notRunning} of ${d.hosts.length} host(s)`));
  if (d.unreachable.length > 0) lines.push(color.bad(`! ${d.unreachable.length} host(s) did not answer`));
  for (const h of d.hosts) {
    const u = h.last_outcome_unknown;
    if (u) lines.push(color.warn(`? ${h.host}: the last ${u.command} from here (to ${u.version}, ${formatTime(u.at)}) did not see its outcome; it ran ${u.from || 'nothing'} before. VERSION shows what it runs now; deploy or roll back again to settle it`));
  }
  for (const h of d.hosts) for (const w of h.ok ? h.agent.warnings : []) lines.push(color.warn(`${h.host}: ${w}`));
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  program.command('status <env>')
    .description('host, app, version, state, pid, uptime, restarts, CPU, memory, disk and agent version on every host of ENV')
    .option('--host <host>', 'only this host')
    .option('-w, --watch', 'redraw every few seconds until Ctrl-C')
    .option('--wide', 'every column, whatever the terminal\'s width, and what each host is: OS, CPU model, memory, file systems')
    .option('--interval <s>', 'seconds between redraws with --watch', '2')
    .addHelpText('after', `
Columns: RSS is the app's resident memory; CPU, MEM and DISK are the host's
(CPU busy over the agent's last sample, memory in use, free space where the
agent keeps its state). RESTARTS counts the restarts after a crash of the
version that runs now (0 again after each deploy or rollback). On a terminal
narrower than the table, the least needed columns are left out (NOFILE,
AGENT, APP, DISK, MEM, CPU, RSS, PID, UPTIME, RESTARTS, in that order) and
a line says which; --wide shows them all, with each host's OS, CPU model,
memory and file systems (read by the agent at its start). Piped output has
every column but the host's facts. Times are UTC ("2026-12-02 14:05:09Z"). A state other than running is marked "!", a version
that differs between hosts "*" (and coloured on a terminal; NO_COLOR=1 turns
colour off). A host that does not answer is a row with the reason.

A host marked "?" is one whose last deploy or rollback from this repo ended
with its outcome unknown (cut off mid-activation, no answer within the grace
period): the line under the table says what it was to run; a later deploy or
rollback that sees its outcome clears the mark.

Exit codes: 0 every host answered, 1 some host did not.`)
    .action(action(async (envName: string, opts: { host?: string; watch?: boolean; wide?: boolean; interval: string }, cmd: Command) => {
      const loaded = load(cmd);
      const interval = Number(opts.interval);
      if (!Number.isFinite(interval) || interval < 0.2 || interval > 3600) throw new UsageError(`--interval must be a number of seconds from 0.2 to 3600, not ${opts.interval}`);
      const fleet = statusFleet(loaded, envName, opts.host);
      const json = globals(cmd).json === true;
      const app = loaded.config.app;
      const marks = unknownOutcomes(loaded.root, envName);
      // Fitted to the terminal only on one; the width is read at each drawing (a resized window).
      const view = (): StatusView => ({ wide: opts.wide === true, width: process.stdout.isTTY ? process.stdout.columns : undefined });
      try {
        if (!opts.watch) {
          const progress = progressLine(fleet.hosts.length, json);
          const { doc, code } = await fleetStatus(fleet, app, envName, marks, progress.update).finally(progress.end);
          if (json) printJson(doc);
          else process.stdout.write(renderStatus(doc, view()));
          return code;
        }
        return await watch(fleet, app, envName, interval * 1000, json, () => unknownOutcomes(loaded.root, envName), view);
      } finally {
        fleet.close();
      }
    }));
  program.command('versions <env>')
    .description('releases present on each host of ENV (stored tarballs and unpacked directories)')
    .option('--host <host>', 'only this host')
    .action(action(async (envName: string, opts: { host?: string }, cmd: Command) => {
      const loaded = load(cmd);
      const fleet = Fleet.forEnv(loaded, envName, environment(loaded, envName), opts.host);
      const app = loaded.config.app;
      const outcomes = await fleet.each((c) => c.listReleases(app)).finally(() => fleet.close());
      const hosts = outcomes.map((o) => (o.ok
        ? { host: o.host, ok: true, releases: o.value.map((r) => ({ ...r, size: Number(r.size) })) }
        : { host: o.host, ok: false, error: failureJson(o.error) }));
      const ok = hosts.every((h) => h.ok);
      if (globals(cmd).json) {
        printJson({ command: 'versions', ok, app, env: envName, hosts });
        return ok ? 0 : 1;
      }
      const rows: string[][] = [];
      for (const h of hosts) {
        if (!h.ok) { rows.push([h.host, '-', '-', color.bad(`! ${h.error?.message}`), '-']); continue; }
        const rels = [...(h.releases ?? [])].sort((a, b) => a.stored_at.localeCompare(b.stored_at));
        if (rels.length === 0) rows.push([h.host, '-', '-', 'no releases', '-']);
        for (const r of rels) {
          const marks = [r.current ? 'current' : '', r.rollback_target ? 'rollback target' : '', r.stored ? 'stored' : '', r.unpacked ? 'unpacked' : ''].filter(Boolean).join(', ');
          rows.push([h.host, r.version, r.sha256.slice(0, 12), r.current ? color.ok(marks) : marks, r.size ? formatBytes(r.size) : '-']);
        }
      }
      process.stdout.write(`${table(['HOST', 'VERSION', 'SHA256', 'WHERE', 'SIZE'], rows)}\n`);
      return ok ? 0 : 1;
    }));
}

/** Redraws until Ctrl-C (SIGINT) or SIGTERM; the exit code is the last round's. */
async function watch(fleet: Fleet, app: string, envName: string, intervalMs: number, json: boolean, marks: () => Record<string, UnknownOutcome>, view: () => StatusView): Promise<number> {
  let stop!: () => void;
  const stopped = new Promise<void>((r) => { stop = r; });
  let done = false;
  const onSignal = () => { done = true; stop(); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const tty = process.stdout.isTTY === true && !json;
  let code = 0;
  let n = 0;
  try {
    while (!done) {
      n++;
      // --json: each host's line as it answers, then the round's document (docs/json-output.md).
      const onHost = json ? (h: MarkedEntry) => { process.stdout.write(`${JSON.stringify({ schema: 1, command: 'status', event: 'host', round: n, ...h })}\n`); } : undefined;
      const progress = progressLine(fleet.hosts.length, json || tty);
      const round = await fleetStatus(fleet, app, envName, marks(), onHost ?? progress.update).finally(progress.end);
      code = round.code;
      if (done) break;
      if (json) {
        process.stdout.write(`${JSON.stringify({ schema: 1, event: 'round', round: n, ...round.doc })}\n`);
      } else {
        const title = color.dim(`slipway status ${envName}: ${formatTime(round.doc.at)}, every ${intervalMs / 1000} s; Ctrl-C to stop`);
        // On a terminal: clear and draw from the top. Elsewhere: one block per round.
        process.stdout.write(`${tty ? '\x1b[H\x1b[2J' : ''}${title}\n${renderStatus(round.doc, view())}${tty ? '' : '\n'}`);
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([stopped, new Promise((r) => { timer = setTimeout(r, intervalMs); })]);
      clearTimeout(timer);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return code;
}

/**
 * "asked 523 of 1000 hosts" on stderr while a round runs, when stderr is a
 * terminal (nothing with --json or when quiet); end() clears it.
 */
function progressLine(total: number, quiet: boolean): { update: (h: unknown, done: number) => void; end: () => void } {
  const tty = process.stderr.isTTY === true && !quiet && total > 1;
  let last = 0;
  let shown = false;
  return {
    update: (_h, done) => {
      if (!tty) return;
      const now = performance.now();
      if (done < total && now - last < 100) return;
      last = now;
      shown = true;
      process.stderr.write(`\r\x1b[K${color.dim(`status: ${done} of ${total} hosts answered`)}`);
    },
    end: () => {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}
