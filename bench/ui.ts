// `npm run bench -- ui [--hosts N] [--seconds S] [--json]`: `slipway ui` at
// scale. N simulated agents (bench/ui-agents.ts: real gRPC servers with mTLS,
// three apps each) in one process; the installed CLI's `slipway ui` watching
// them (its own process, measured from /proc); headless Chromium on its page.
// Figures:
//   - first paint of the page (first-contentful-paint) and the full grid
//     drawn (the snapshot of N hosts applied), on a fresh page load;
//   - a simulated rollout (20 hosts per batch, 250 ms apart) of all three
//     apps: each `hosts` message applied in the browser (DOM updated) and
//     to the next frame, p50/p95/max; every cell changed live;
//   - the ui process's CPU (utime + stime over S seconds with no page open,
//     then S seconds with the page open, then during the rollouts) and memory
//     (RSS, and the high-water mark).
// Targets (issue 17): first paint < 1 s, an update applied < 100 ms.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, tmpdir, totalmem, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { makePki } from '../scripts/pki.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = here.includes(join('dist', 'bench')) ? join(here, '..', 'bin', 'slipway.cjs') : join(here, '..', 'dist', 'bin', 'slipway.cjs');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TICK = 100; // clock ticks per second (_SC_CLK_TCK on Linux)

interface Update { hosts: number; applied_ms: number; laid_out_ms: number; to_frame_ms: number; painted_ms: number }

const pctl = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function memory(pid: number): { rss_mib: number; hwm_mib: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
  return { rss_mib: kb('VmRSS') / 1024, hwm_mib: kb('VmHWM') / 1024 };
}

/** The renderer's own counters (CDP Performance.getMetrics): ThreadTime is the main thread's CPU seconds, load-independent unlike wall time. */
async function metrics(cdp: { send(m: 'Performance.getMetrics'): Promise<{ metrics: { name: string; value: number }[] }> }): Promise<Record<string, number>> {
  return Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
}

export async function runUiBench(argv: string[]): Promise<number> {
  let hosts = 200;
  let seconds = 20;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--hosts') hosts = Number(argv[++i]);
    else if (a === '--seconds') seconds = Number(argv[++i]);
    else if (a === '-h' || a === '--help') { console.log('usage: npm run bench -- ui [--hosts N (default 200)] [--seconds S (default 20)] [--json]'); return 0; }
    else { console.error(`unknown option ${a}`); return 2; }
  }
  if (!Number.isInteger(hosts) || hosts < 1 || hosts > 2000 || !Number.isInteger(seconds) || seconds < 5 || seconds > 600) { console.error('--hosts 1..2000, --seconds 5..600'); return 2; }
  if (!existsSync(CHROMIUM) || !existsSync(CLI)) { console.error(`needs ${CHROMIUM} and the built CLI (${CLI}); npm run build`); return 1; }
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-ui-'));
  let sim: ChildProcess | undefined;
  let ui: ChildProcess | undefined;
  const load0 = loadavg()[0]!;
  try {
    const pki = await makePki(join(dir, 'pki'));
    const agentCert = await pki.agentCert('sim-agent');
    sim = fork(join(here, `ui-agents.${here.includes(join('dist', 'bench')) ? 'js' : 'ts'}`), [String(hosts), JSON.stringify({ ca: pki.ca, cert: agentCert.cert, key: agentCert.key })], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    const addresses = await new Promise<string[]>((resolve, reject) => {
      createInterface({ input: sim!.stdout! }).once('line', (l) => resolve(l.trim().split(' ')));
      sim!.once('exit', (c) => reject(new Error(`the simulated agents exited (${c})`)));
    });
    log(`${addresses.length} simulated agents listening (mTLS)`);
    writeFileSync(join(dir, 'slipway.yaml'), [
      'app: hello', 'build: { include: [server.js] }', 'run: { command: [node, server.js] }',
      'environments:', `  production:`, `    hosts: [${addresses.join(', ')}]`, `tls: ${pki.coordinatorTls}`, 'deadline_s: 5', '',
    ].join('\n'));
    ui = spawn(process.execPath, [CLI, 'ui', '--listen', '127.0.0.1:0'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NO_COLOR: '1' } });
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: ui!.stdout! }).on('line', (l) => { const m = /(http:\/\/\S+\/)/.exec(l); if (m) resolve(m[1]!); });
      ui!.once('exit', (c) => reject(new Error(`slipway ui exited (${c})`)));
    });
    const uiPid = ui.pid!;
    // Every host answered once before the page is measured.
    const t0 = Date.now();
    for (;;) {
      const st = await (await fetch(`${url}api/state`)).json() as { envs: { hosts: { reach: string }[] }[] };
      if (st.envs[0]!.hosts.every((h) => h.reach === 'reachable')) break;
      if (Date.now() - t0 > 60_000) throw new Error('not every simulated agent answered within 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    log(`every host answered ${Date.now() - t0} ms after the ui started`);
    // No page open: each host asked every 10 s.
    const i0 = cpuTicks(uiPid);
    const iw = Date.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const idleCpu = ((cpuTicks(uiPid) - i0) / TICK) / ((Date.now() - iw) / 1000) * 100;
    const idleMem = memory(uiPid);
    log(`no page open: ui CPU ${idleCpu.toFixed(1)}% of one core, RSS ${idleMem.rss_mib.toFixed(0)} MiB`);
    const context = await chromium.launchPersistentContext(mkdtempSync(join(dir, 'chromium-')), { executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 800 }, args: CHROMIUM_ARGS });
    try {
      const page = context.pages()[0] ?? await context.newPage();
      page.on('pageerror', (err) => log(`page error: ${err.message}`));
      const cdp = await context.newCDPSession(page);
      await cdp.send('Performance.enable');
      const paints: { fcp: number; grid: number; cpu: number }[] = [];
      for (let i = 0; i < 3; i++) {
        await page.goto('about:blank');
        const m0 = await metrics(cdp);
        await page.goto(`${url}?run=${i}`, { waitUntil: 'load' });
        await page.waitForFunction((n) => document.querySelectorAll('.body .cell[data-app]').length >= n, hosts * 3, { timeout: 60_000 });
        // (the first drawing draws every row: the grid's full HTML, then each row redrawn only when it changes)
        paints.push(await page.evaluate(() => {
          const fcp = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN;
          const ui = (window as unknown as { slipwayUi: { firstRender: { since_navigation_ms: number } } }).slipwayUi;
          return { fcp, grid: ui.firstRender.since_navigation_ms };
        }).then(async (p) => ({ ...p, cpu: ((await metrics(cdp)).ThreadTime! - m0.ThreadTime!) * 1000 })));
      }
      log(`first paint / grid drawn / main-thread CPU (ms): ${paints.map((p) => `${p.fcp.toFixed(0)}/${p.grid.toFixed(0)}/${p.cpu.toFixed(0)}`).join(', ')}`);

      // Steady state, page open: the ui's CPU and memory.
      const c0 = cpuTicks(uiPid);
      const w0 = Date.now();
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const steadyCpu = ((cpuTicks(uiPid) - c0) / TICK) / ((Date.now() - w0) / 1000) * 100;
      const steadyMem = memory(uiPid);
      log(`steady: ui CPU ${steadyCpu.toFixed(1)}% of one core, RSS ${steadyMem.rss_mib.toFixed(0)} MiB`);

      // Rollouts of all three apps, 20 hosts per batch.
      await page.evaluate(() => { (window as unknown as { slipwayUi: { updates: unknown[] } }).slipwayUi.updates = []; });
      const r0 = Date.now();
      const c1 = cpuTicks(uiPid);
      const rm0 = await metrics(cdp);
      const batches: { batchAt: number; first: number; count: number }[] = [];
      const batchesOf = (m: { done?: boolean; batchAt?: number; first?: number; count?: number }) => { if (!m.done) batches.push(m as { batchAt: number; first: number; count: number }); };
      sim.on('message', batchesOf);
      // Three rollouts of all three apps (each a new version on every host, 20 hosts per batch, 250 ms apart).
      for (const version of ['2.0.0', '3.0.0', '4.0.0']) {
        const simDone = new Promise<void>((resolve) => { const f = (m: { done?: boolean }) => { if (m.done) { sim!.off('message', f); resolve(); } }; sim!.on('message', f); });
        sim.send({ deploy: version, batch: 20, pauseMs: 250 });
        await simDone;
        // Every cell of the page's state changed; rows far from the viewport are drawn when scrolled to.
        await page.waitForFunction(([v, n]) => (window as unknown as { slipwayUi: { cellsWith(v: string): number } }).slipwayUi.cellsWith(v as string) >= (n as number), [version, hosts * 3], { timeout: 60_000 });
      }
      const rolloutMs = Date.now() - r0;
      const rm1 = await metrics(cdp);
      const d = (k: string) => (rm1[k]! - rm0[k]!) * 1000;
      const lastBatchAt = batches.at(-1)!.batchAt;
      const rolloutCpu = ((cpuTicks(uiPid) - c1) / TICK) / (rolloutMs / 1000) * 100;
      const updates = await page.evaluate(() => (window as unknown as { slipwayUi: { updates: Update[] } }).slipwayUi.updates);
      const applied = updates.map((u) => u.applied_ms);
      const frame = updates.map((u) => u.to_frame_ms);
      const painted = updates.map((u) => u.painted_ms);
      const laidOut = updates.map((u) => u.laid_out_ms);
      const finalMem = memory(uiPid);
      const result = {
        date: new Date().toISOString(), machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? '', memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version, load_start: load0, load_end: loadavg()[0] },
        hosts, apps: 3, interval_s: 1, page_bytes: ['index.html', 'app.css', 'app.js'].reduce((n, f) => n + readFileSync(join(dirname(CLI), '..', 'ui', f)).length, 0),
        first_paint_ms: paints.map((p) => p.fcp), grid_drawn_ms: paints.map((p) => p.grid),
        update_messages: updates.length, hosts_per_message_max: Math.max(...updates.map((u) => u.hosts)),
        applied_ms: { p50: pctl(applied, 50), p95: pctl(applied, 95), max: Math.max(...applied) },
        laid_out_ms: { p50: pctl(laidOut, 50), p95: pctl(laidOut, 95), max: Math.max(...laidOut) },
        to_frame_ms: { p50: pctl(frame, 50), p95: pctl(frame, 95), max: Math.max(...frame) },
        painted_ms: { p50: pctl(painted, 50), p95: pctl(painted, 95), max: Math.max(...painted) },
        first_view_main_thread_cpu_ms: paints.map((p) => p.cpu),
        rollout_renderer_ms: { main_thread_cpu: d('ThreadTime'), script: d('ScriptDuration'), style: d('RecalcStyleDuration'), layout: d('LayoutDuration'), per_message_main_thread_cpu: d('ThreadTime') / Math.max(1, updates.length) },
        last_change_to_page_ms: Date.now() - lastBatchAt,
        rollout_ms: rolloutMs,
        ui_cpu_percent: { no_page: idleCpu, steady: steadyCpu, rollout: rolloutCpu },
        ui_memory_mib: { no_page_rss: idleMem.rss_mib, steady_rss: steadyMem.rss_mib, end_rss: finalMem.rss_mib, hwm: finalMem.hwm_mib },
      };
      if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else {
        const f = (n: number) => n.toFixed(1);
        console.log(`slipway ui at ${hosts} hosts × 3 apps (simulated agents, mTLS), ${result.machine.cpus} cores (${result.machine.cpu_model}), load ${load0.toFixed(1)} → ${result.machine.load_end!.toFixed(1)}`);
        console.log(`page: ${result.page_bytes} bytes (index.html + app.css + app.js, uncompressed)`);
        console.log(`first paint (ms):             ${result.first_paint_ms.map(f).join(', ')}   target < 1000: ${Math.max(...result.first_paint_ms) < 1000 ? 'PASS' : 'MISS'}`);
        console.log(`grid of ${hosts * 3} cells drawn (ms):  ${result.grid_drawn_ms.map(f).join(', ')}`);
        console.log(`rollout: ${updates.length} update messages (up to ${result.hosts_per_message_max} hosts each); DOM updated p50 ${f(result.applied_ms.p50)} p95 ${f(result.applied_ms.p95)} max ${f(result.applied_ms.max)} ms; with style and layout p50 ${f(result.laid_out_ms.p50)} p95 ${f(result.laid_out_ms.p95)} max ${f(result.laid_out_ms.max)} ms   target < 100 (laid out, p95): ${result.laid_out_ms.p95 < 100 ? 'PASS' : 'MISS'}\n         to next frame p50 ${f(result.to_frame_ms.p50)} p95 ${f(result.to_frame_ms.p95)} max ${f(result.to_frame_ms.max)} ms; painted p50 ${f(result.painted_ms.p50)} p95 ${f(result.painted_ms.p95)} max ${f(result.painted_ms.max)} ms`);
        const rr = result.rollout_renderer_ms;
        console.log(`         renderer during the rollouts (${(rolloutMs / 1000).toFixed(1)} s): main-thread CPU ${f(rr.main_thread_cpu)} ms (script ${f(rr.script)}, style ${f(rr.style)}, layout ${f(rr.layout)}); ${f(rr.per_message_main_thread_cpu)} ms of CPU per update message   target < 100: ${rr.per_message_main_thread_cpu < 100 ? 'PASS' : 'MISS'}`);
        console.log(`first view's main-thread CPU (ms): ${result.first_view_main_thread_cpu_ms.map(f).join(', ')}`);
        console.log(`the last batch's change on every cell of the page after ${result.last_change_to_page_ms} ms (polling every 1 s)`);
        console.log(`ui process, no page open (Status every 10 s): CPU ${f(idleCpu)}% of one core, RSS ${idleMem.rss_mib.toFixed(0)} MiB`);
        console.log(`ui process CPU: ${f(steadyCpu)}% of one core steady (${seconds} s, page open), ${f(rolloutCpu)}% during the rollout; RSS ${steadyMem.rss_mib.toFixed(0)} MiB steady, ${finalMem.rss_mib.toFixed(0)} MiB at the end, high-water ${finalMem.hwm_mib.toFixed(0)} MiB`);
      }
    } finally {
      await context.close();
    }
    return 0;
  } finally {
    ui?.kill('SIGINT');
    sim?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
