// How a rollout looks to the operator: the lines each event makes (pure),
// and three renderers of them on stderr: a terminal (lines above per-host
// progress bars), plain lines (piped, CI), and nothing for --json (whose
// document is the hosts' records, records.ts). Plus the summary table.
import cliProgress from 'cli-progress';
import { color, formatBytes, table } from '../output.js';
import type { RolloutEvent } from './events.js';
import type { HostDeploy, HostOutcome } from './records.js';

export interface Line {
  /** A host, or the command's name for a line about the whole fleet. */
  label: string;
  text: string;
}

export interface RenderOptions {
  /** The command: labels fleet-wide lines ('deploy', 'rollback'). */
  name: string;
  /** Say where each host goes before it moves (rollback: "1.2.0 → 1.1.0"). */
  showMoves?: boolean;
}

/** The lines an event shows (none for most: they feed the records). */
export function linesFor(e: RolloutEvent, opts: RenderOptions): Line[] {
  const host = (text: string): Line[] => ('host' in e ? [{ label: e.host, text }] : []);
  const fleet = (text: string): Line[] => [{ label: opts.name, text }];
  switch (e.type) {
    case 'upload_skipped':
      return host(`already has ${e.release.app} ${e.release.version} (${e.release.sha256.slice(0, 12)}): nothing to send`);
    case 'upload_started':
      return host(e.via === 'store' ? `fetching ${formatBytes(e.size)} from the artifact store` : `uploading ${formatBytes(e.size)}`);
    case 'upload_done':
      // Over gRPC is slower, and a sign of a firewall or an old agent: say so rather than fall back in silence.
      return [
        ...(e.fallback ? host(color.warn(e.fallback.startsWith('pushed:') ? `not fetched from the artifact store, ${e.fallback}` : `sent over gRPC, not the data port: ${e.fallback}`)) : []),
        ...host(e.alreadyStored ? 'already stored (found during upload)' : e.channel === 'store' ? `fetched ${formatBytes(e.bytes)} from the artifact store` : `uploaded ${formatBytes(e.bytes)}`),
      ];
    case 'upload_failed':
      return host(color.bad(`upload failed: ${e.error.message}`));
    case 'stopped_before_activation':
      return fleet(color.bad(e.message));
    case 'batch_started':
      return e.count > 1 ? [{ label: `batch ${e.index + 1}/${e.count}`, text: e.hosts.join(', ') }] : [];
    case 'host_started':
      return opts.showMoves && e.phase === 'forward' && e.action.kind === 'activate' ? host(`${e.from?.version ?? 'nothing'} → ${e.action.to.version}`) : [];
    case 'host_event': {
      const ev = e.event;
      if (e.action === 'control') {
        return [...host(`${ev.event.padEnd(11)} ${ev.event === 'failed' ? color.bad(ev.message) : ev.message}`), ...ev.output.flatMap((l) => host(color.dim(`  | ${l}`)))];
      }
      const text = `${`+${ev.elapsed_s.toFixed(2)}s`.padStart(8)} ${ev.event.padEnd(11)} ${ev.message}`;
      const shown = ev.event === 'failed' ? color.bad(text) : ev.event === 'done' || ev.event === 'rolled_back' ? color.ok(text) : text;
      return [...host(shown), ...(ev.event === 'failed' ? ev.output.flatMap((l) => host(color.dim(`  | ${l}`))) : [])];
    }
    case 'host_result':
      if (e.unknown) return host(color.warn(`outcome unknown: ${e.error?.message ?? 'no outcome seen'}`));
      // An agent that said `failed` has shown why; an Activate call that failed has not.
      return e.callFailed && e.action === 'activate' && e.error ? host(color.bad(`activation failed: ${e.error.message}`)) : [];
    case 'outcome_check':
      return host(color.warn(`asking what it runs (up to ${e.grace_s} s) before putting hosts back`));
    case 'outcome_learned':
      return host(e.switched ? color.warn(`it finished the switch while cut off (runs ${e.runs}): putting it back too`) : `the switch did not take: it runs ${e.runs}`);
    case 'outcome_unresolved':
      return host(color.bad(`outcome still unknown: ${e.message}`));
    case 'interrupted':
      return fleet(color.warn('interrupted: stopping after this batch; hosts not reached keep their version'));
    case 'revert_started':
      if (e.unknown?.length) {
        const sure = e.hosts.filter((h) => !e.unknown?.includes(h));
        return fleet(color.warn(`outcome unknown on ${e.unknown.join(', ')}: asking ${e.unknown.length === 1 ? 'it' : 'them'} what runs there${sure.length ? `, and putting ${sure.join(', ')} back` : ''} (revert: ${e.revert})`));
      }
      return fleet(color.warn(`a host failed: putting ${e.hosts.join(', ')} back (revert: ${e.revert})`));
    default:
      return [];
  }
}

export interface Renderer {
  event(e: RolloutEvent): void;
  /** A line of the command's own (a warning, a task's progress) among the events'. */
  note(label: string, text: string): void;
  /** Ends the bars; safe to call twice. */
  stop(): void;
}

const format = (l: Line) => `${color.dim(l.label)}  ${l.text}`;

/** Plain lines on stderr: piped output, CI logs. */
export function plainRenderer(opts: RenderOptions, write: (s: string) => void = (s) => process.stderr.write(s)): Renderer {
  const out = (l: Line) => write(`${format(l)}\n`);
  return {
    event: (e) => linesFor(e, opts).forEach(out),
    note: (label, text) => out({ label, text }),
    stop: () => undefined,
  };
}

/**
 * A terminal: a progress bar per host while it uploads, the lines above the
 * bars. The bars start with the first upload; until then (and when nothing
 * is uploaded: a rollback, a restart, a deploy every host already has) lines
 * are written as they come, since the bars' log shows its lines only when
 * it redraws a bar.
 */
export function ttyRenderer(opts: RenderOptions, stream: NodeJS.WriteStream = process.stderr): Renderer {
  let multi: cliProgress.MultiBar | undefined;
  const bars = new Map<string, cliProgress.SingleBar>();
  const out = (l: Line) => (multi ? multi.log(`${format(l)}\n`) : stream.write(`${format(l)}\n`));
  return {
    event(e) {
      if (e.type === 'upload_progress') {
        multi ??= new cliProgress.MultiBar({
          stream, clearOnComplete: false, hideCursor: true,
          format: '{host} [{bar}] {percentage}% {what}', barsize: 24,
        }, cliProgress.Presets.shades_classic);
        let bar = bars.get(e.host);
        if (!bar) {
          bar = multi.create(e.size, 0, { host: e.host.padEnd(22), what: 'upload' });
          bars.set(e.host, bar);
        }
        bar.setTotal(e.size);
        bar.update(e.sent, { what: 'upload' });
      }
      linesFor(e, opts).forEach(out);
    },
    note: (label, text) => out({ label, text }),
    stop() {
      // The bars' log holds lines until the next redraw: draw once more so that none is lost.
      multi?.update();
      multi?.stop();
      multi = undefined;
    },
  };
}

/** --json: nothing on stderr; the document is built from the records. */
export const silentRenderer: Renderer = { event: () => undefined, note: () => undefined, stop: () => undefined };

/** The renderer for this run: silent with --json, bars on a terminal, plain lines elsewhere. */
export function rendererFor(json: boolean, opts: RenderOptions): Renderer {
  if (json) return silentRenderer;
  return process.stderr.isTTY ? ttyRenderer(opts) : plainRenderer(opts);
}

const OUTCOME_TEXT: Record<HostOutcome, string> = {
  switched: 'switched', unchanged: 'unchanged', failed: 'failed', unknown: 'UNKNOWN ?', reverted: 'put back', revert_failed: 'put back failed',
  not_reached: 'not reached', upload_failed: 'upload failed', uploaded: 'uploaded',
};

/** "2 switched, 1 unchanged": how the hosts that run the target got there (empty when none does). */
export function switchCounts(results: readonly Pick<HostDeploy, 'outcome'>[]): string {
  const switched = results.filter((r) => r.outcome === 'switched').length;
  const unchanged = results.filter((r) => r.outcome === 'unchanged').length;
  return [switched ? `${switched} switched` : '', unchanged ? `${unchanged} unchanged` : ''].filter(Boolean).join(', ');
}

/** The table after a deploy or rollback: one row per host. */
export function summaryTable(results: HostDeploy[]): string {
  return table(['HOST', 'UPLOAD', 'RESULT', 'NOW', 'PID', 'WHY'], results.map((r) => [
    r.host,
    r.upload === 'sent' ? formatBytes(r.uploaded_bytes) : r.upload === 'not_started' ? '-' : r.upload,
    r.ok ? color.ok(OUTCOME_TEXT[r.outcome]) : r.outcome === 'not_reached' || r.outcome === 'reverted' ? color.warn(OUTCOME_TEXT[r.outcome]) : color.bad(OUTCOME_TEXT[r.outcome]),
    r.state || '-',
    r.pid ? String(r.pid) : '-',
    r.error?.message ?? (r.outcome === 'reverted' ? `back on ${r.before?.version} after another host failed` : r.outcome === 'unchanged' ? 'it ran this release already' : ''),
  ]));
}
