// Starts real agents on this machine, each with its own state dir, loopback
// port and app address: what the demo and the integration tests use.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { socketDirFor } from '../agent/runtime/supervisor/protocol.js';
import { processStartTicks } from '../agent/runtime/process/proc.js';
import type { Pki } from './pki.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The installed programs, the bundles in dist/bin (scripts/bundle.mjs), found from the sources (scripts/) and from dist/scripts/. */
const BIN_DIR = here.includes(`${join('dist', 'scripts')}`) ? join(here, '..', 'bin') : join(here, '..', 'dist', 'bin');
export const AGENT_BIN = join(BIN_DIR, 'slipway-agent.mjs');
export const CLI_BIN = join(BIN_DIR, 'slipway.cjs');
/** The unit's launcher (agent upgrades and their switch back): LocalAgent's supervised mode runs the agent through it. */
export const LAUNCHER = join(BIN_DIR, '..', '..', 'systemd', 'agent-launcher.sh');
/** Between an exit and the next start in supervised mode (the unit's RestartSec is 2 s; shorter here, for the tests' runtime). */
const RESTART_MS = 300;

export interface LocalAgentOptions {
  dir: string;
  name: string;
  appBind?: string;
  /** Fixed port; default 0 (any free one). */
  port?: number;
  extraConfig?: string;
  /** The HTTP endpoint's address (default 127.0.0.1:0: any free port, so agents never collide); false: off. */
  http?: string | false;
  /** mTLS files (scripts/pki.ts); default: insecure, as loopback experiments may. */
  tls?: { ca: string; cert: string; key: string };
  /** Release public keys the agent trusts; with none (and no tls) it accepts unsigned releases. */
  trustedKeys?: string[];
  /**
   * Run as the systemd unit does: through systemd/agent-launcher.sh (its
   * --check first, as ExecStartPre), with <dir>/state/agent as the launcher's
   * home, and started again whenever it exits (Restart=always) until stop().
   */
  supervised?: boolean;
  /** More environment for the agent (supervised: the launcher's SLIPWAY_UPGRADE_DEADLINE_S, say). */
  env?: Record<string, string>;
}

export class LocalAgent {
  child?: ChildProcess;
  address = '';
  /** The HTTP endpoint's bound address, from the 'agent listening' line ('' when off). */
  httpAddress = '';
  readonly logLines: string[] = [];
  readonly configFile: string;
  readonly stateDir: string;

  constructor(readonly opts: LocalAgentOptions) {
    this.stateDir = join(opts.dir, 'state');
    this.configFile = join(opts.dir, 'agent.yaml');
    mkdirSync(opts.dir, { recursive: true });
    writeFileSync(this.configFile, [
      `# agent ${opts.name}, started by slipway's local fleet`,
      `name: ${opts.name}`,
      `listen: 127.0.0.1:${opts.port ?? 0}`,
      'state_dir: state',
      opts.tls ? `tls: { ca: ${opts.tls.ca}, cert: ${opts.tls.cert}, key: ${opts.tls.key} }` : 'tls: { insecure: true }',
      opts.trustedKeys?.length ? `trusted_keys: [${opts.trustedKeys.join(', ')}]` : 'allow_unsigned: true',
      opts.appBind ? `app_bind: ${opts.appBind}` : '',
      `http: ${opts.http === false ? 'false' : (opts.http ?? '127.0.0.1:0')}`,
      opts.extraConfig ?? '',
    ].join('\n'));
  }

  /** Supervised mode: restart on exit while true (stop() clears it). */
  private supervising = false;
  /** Supervised mode: how many times the agent was started. */
  starts = 0;

  /** The launcher's home in supervised mode (the unit's /var/lib/slipway/agent). */
  get home(): string {
    return join(this.stateDir, 'agent');
  }

  /** Starts the agent and resolves once it listens (its address is then known). */
  start(timeoutMs = 20_000): Promise<void> {
    if (this.opts.supervised) this.supervising = true;
    return this.launch(timeoutMs);
  }

  /** The launcher's command line (supervised mode), with --check for ExecStartPre. */
  private launcherArgs(check: boolean): string[] {
    const exe = process.env.SLIPWAY_AGENT_EXE;
    return [LAUNCHER, ...(check ? ['--check'] : []), '--home', this.home, '--installed', exe || AGENT_BIN, '--', '--config', this.configFile];
  }

  private launcherEnv(): NodeJS.ProcessEnv {
    return { ...process.env, NODE_OPTIONS: '--max-semi-space-size=1', SLIPWAY_NODE: process.execPath, ...this.opts.env };
  }

  /** ExecStartPre: the launcher's --check (which switches an unconfirmed build that fails it back). */
  private preCheck(): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn('sh', this.launcherArgs(true), { env: this.launcherEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
      child.on('exit', (code) => {
        for (const l of out.split('\n').filter(Boolean)) this.logLines.push(l);
        if (code === 0) resolve();
        else reject(new Error(`agent ${this.opts.name}: the launcher's --check failed (${code}):\n${out}`));
      });
    });
  }

  /** Supervised mode: the next start after an exit, as Restart=always does (a failed --check is retried the same way). */
  private relaunch(): void {
    setTimeout(() => {
      if (!this.supervising) return;
      this.launch(120_000).catch(() => { /* its exit (or its failed check) schedules the next start */ });
    }, RESTART_MS).unref();
  }

  private async launch(timeoutMs: number): Promise<void> {
    if (this.opts.supervised) {
      try {
        await this.preCheck();
      } catch (err) {
        if (this.supervising && this.starts > 0) this.relaunch();
        throw err;
      }
      if (!this.supervising) return;
    }
    // The V8 flag of the systemd unit (systemd/slipway-agent.service), so local agents weigh what real ones do.
    // SLIPWAY_AGENT_EXE: run the single executable instead (scripts/build-sea.mjs; test/integration/sea.test.ts).
    const exe = process.env.SLIPWAY_AGENT_EXE;
    const argv = ['--max-semi-space-size=1', ...(exe ? [] : [AGENT_BIN]), '--config', this.configFile];
    const child = this.opts.supervised
      ? spawn('sh', this.launcherArgs(false), { env: this.launcherEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(exe || process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.starts++;
    if (this.opts.supervised) {
      child.once('exit', () => {
        if (this.supervising && this.child === child) this.relaunch();
      });
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`agent ${this.opts.name} did not start within ${timeoutMs} ms:\n${this.logLines.slice(-20).join('\n')}`)), timeoutMs);
      const onLine = (line: string) => {
        this.logLines.push(line);
        if (this.logLines.length > 5000) this.logLines.splice(0, 1000);
        try {
          const rec = JSON.parse(line) as { msg?: string; grpc?: string; http?: string };
          if (rec.msg === 'agent listening' && rec.grpc) {
            this.address = rec.grpc;
            // A restart of this agent keeps its address, as a real host's would.
            if (!this.opts.port) {
              this.opts.port = Number(rec.grpc.slice(rec.grpc.lastIndexOf(':') + 1));
              writeFileSync(this.configFile, readFileSync(this.configFile, 'utf8').replace(/^listen: 127\.0\.0\.1:0$/m, `listen: 127.0.0.1:${this.opts.port}`));
            }
            this.httpAddress = rec.http ?? '';
            clearTimeout(timer);
            resolve();
          }
        } catch { /* not JSON */ }
      };
      createInterface({ input: child.stdout! }).on('line', onLine);
      createInterface({ input: child.stderr! }).on('line', onLine);
      child.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`agent ${this.opts.name} exited (${code ?? sig}) before it listened:\n${this.logLines.slice(-20).join('\n')}`));
      });
    });
  }

  /** Stops the agent (SIGTERM, or SIGKILL with kill = true) and waits for it; supervised, it is not started again. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.supervising = false;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  /** Signals the agent's process as it runs now; supervised, it is started again (a crash, as systemd sees one). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): number | undefined {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return undefined;
    child.kill(signal);
    return child.pid;
  }

  /** Lines of the agent's JSON log whose msg contains `text`. */
  logged(text: string): string[] {
    return this.logLines.filter((l) => l.includes(text));
  }
}

/**
 * An agent as an operator runs one: mTLS with its own certificate from the
 * PKI (SANs localhost and 127.0.0.1), trusting the PKI's release key, with
 * no allow_unsigned. Not started yet.
 */
export async function securedAgent(pki: Pki, opts: Omit<LocalAgentOptions, 'tls' | 'trustedKeys'>): Promise<LocalAgent> {
  // One certificate per agent name (an agent made again for a restart keeps its own).
  const cert = join(pki.dir, `${opts.name}.pem`);
  const key = join(pki.dir, `${opts.name}-key.pem`);
  if (!existsSync(cert)) await pki.agentCert(opts.name);
  return new LocalAgent({ ...opts, tls: { ca: pki.ca, cert, key }, trustedKeys: [pki.signing.public] });
}

/** The pid of the supervising process of a state dir, if one was started. */
export function supervisorPid(stateDir: string): number | undefined {
  return pidFile(stateDir, 'supervisor.pid');
}

/** The supervising process's holder (it keeps copies of the sockets and pipes, and starts a successor). */
export function holderPid(stateDir: string): number | undefined {
  return pidFile(stateDir, 'holder.pid');
}

function pidFile(stateDir: string, name: string): number | undefined {
  try {
    return Number(readFileSync(join(socketDirFor(stateDir), name), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Ends the supervising process and every process of the apps an agent
 * started (they run in their own sessions, and outlive the agent by design).
 * A pid is signalled only once /proc shows it is still that process (its
 * command line names this state dir's socket, or its start time or its
 * environment match): pids wrap (pid_max is often 32768), and a stale pid
 * file must never kill another agent's process.
 */
export function killAppsUnder(stateDir: string): void {
  const socket = join(socketDirFor(stateDir), 'supervisor.sock');
  const isOurSupervisor = (pid: number) => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv.indexOf('--socket') > 0 && argv[argv.indexOf('--socket') + 1] === socket;
    } catch {
      return false;
    }
  };
  const sup = supervisorPid(stateDir);
  if (sup && isOurSupervisor(sup)) {
    // Its process group holds its holder too (which would start a successor): both go at once.
    // (A group's id is not reused while any member lives, and this one's member was just checked.)
    const pgid = processGroupOf(sup);
    if (pgid !== undefined && pgid > 1) tryKill(-pgid);
    tryKill(sup);
  }
  // An agent killed right after it listened may have spawned its supervising
  // process before that process wrote its pid file: found by its --socket.
  for (const pid of procPids()) if (isOurSupervisor(pid)) tryKill(pid);
  // The state files record each app's processes; the agent's own stop leaves them running by design.
  try {
    for (const app of readdirSync(join(stateDir, 'apps'))) {
      try {
        const st = JSON.parse(readFileSync(join(stateDir, 'apps', app, 'state.json'), 'utf8')) as { processes?: { pid: number; start_ticks?: number }[] };
        for (const p of st.processes ?? []) {
          if (p.start_ticks !== undefined && processStartTicks(p.pid) === p.start_ticks) tryKill(-p.pid);
        }
      } catch { /* no state */ }
    }
  } catch { /* no apps */ }
  // Any app process started from a release under this state dir (one not recorded yet, or a child left behind).
  const prefix = `SLIPWAY_RELEASE_DIR=${stateDir}/`;
  for (const pid of procPids()) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').some((e) => e.startsWith(prefix))) tryKill(pid);
    } catch { /* gone, or not ours to read */ }
  }
}

function procPids(): number[] {
  try {
    return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
  } catch {
    return [];
  }
}

function processGroupOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

function tryKill(pid: number): void {
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}
