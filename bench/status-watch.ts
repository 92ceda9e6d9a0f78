// `slipway status --watch` of N simulated agents: what each round costs the
// CLI once its channels are up (the first round makes N TLS connections, the
// next ones reuse them).
//
//   npm run bench -- status-scale --watch N [--rounds R (6)]
//
// The CLI is the installed bundle, `slipway --json status scale --watch
// --interval 0.2`, spawned directly (its pid is the node process); at each
// round's line on stdout its CPU (utime + stime from /proc/PID/stat, the
// agent's own reader) is read.
// Per round: CPU per host (the CPU since the previous round's line, over N:
// the 0.2 s sleep between rounds costs next to nothing), wall (the time
// between the two lines, less the interval) and hosts answered. Round 1
// includes the process's start and every handshake.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { makePki } from '../scripts/pki.js';
import { startSimAgents } from '../scripts/sim-agents.js';
import { CLI_BIN } from '../scripts/local-fleet.js';
import { readProcSample } from '../agent/monitoring/proc-stats.js';
import { writeScaleConfig } from './common.js';

export interface WatchRound { round: number; answered: number; wall_ms: number; cpu_ms: number; cpu_per_host_ms: number }

const INTERVAL_S = 0.2;

export async function runStatusWatch(n: number, rounds: number, log: (s: string) => void): Promise<WatchRound[]> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-status-watch-'));
  const pki = await makePki(join(dir, 'pki'));
  const ac = await pki.agentCert('sim-agent', ['127.0.0.1', 'localhost']);
  const sims = await startSimAgents(n, { tls: { ca: pki.ca, cert: ac.cert, key: ac.key } });
  const repo = join(dir, 'repo');
  mkdirSync(repo);
  writeScaleConfig(repo, sims.addresses, pki.coordinatorTls);
  const bin = process.env.SLIPWAY_FLEET_BIN_DIR ? join(process.env.SLIPWAY_FLEET_BIN_DIR, 'slipway.cjs') : CLI_BIN;
  const out: WatchRound[] = [];
  try {
    const child = spawn(process.execPath, [bin, '--json', 'status', 'scale', '--watch', '--interval', String(INTERVAL_S)], {
      cwd: repo, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'ignore'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let lastCpu = 0;
    let lastAt = performance.now();
    const started = lastAt;
    for await (const line of createInterface({ input: child.stdout })) {
      const ev = JSON.parse(line) as { event?: string; round?: number; hosts?: { ok: boolean }[] };
      if (ev.event !== 'round') continue;
      const now = performance.now();
      const sample = await readProcSample(child.pid!);
      if (!sample) throw new Error(`the CLI exited during round ${ev.round ?? out.length + 1}`);
      const cpu = sample.cpuSeconds * 1000;
      const round = ev.round ?? out.length + 1;
      const r: WatchRound = {
        round,
        answered: (ev.hosts ?? []).filter((h) => h.ok).length,
        wall_ms: Math.round(now - lastAt - (round === 1 ? 0 : INTERVAL_S * 1000)),
        cpu_ms: Math.round(cpu - lastCpu),
        cpu_per_host_ms: Math.round(((cpu - lastCpu) / n) * 1000) / 1000,
      };
      out.push(r);
      log(`round ${r.round}: ${r.answered}/${n} answered, ${r.wall_ms} ms wall${round === 1 ? ' (from spawn)' : ''}, ${r.cpu_ms} ms CPU, ${r.cpu_per_host_ms} ms per host`);
      lastCpu = cpu;
      lastAt = now;
      if (out.length >= rounds) break;
      if (now - started > 300_000) throw new Error('the rounds took over 5 minutes');
    }
    child.kill('SIGINT');
    await exited;
  } finally {
    await sims.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
