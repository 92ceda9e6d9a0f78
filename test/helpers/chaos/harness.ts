// The fault-injection run: one real agent (mTLS, signed releases only) and
// its real supervising process on loopback, examples/hello under paced HTTP
// load, and rounds (round.ts) that each run one operation through the real
// CLI, SIGKILL the agent or the supervising process at a named step, bring
// the agent back on the same state dir, run the operation again and check
// the invariants. This file sets the host up, keeps what each round needs
// (versions built, connection, load) and tears it all down.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { makePki, type Pki } from '../../../scripts/pki.js';
import { securedAgent, killAppsUnder, type LocalAgent } from '../../../scripts/local-fleet.js';
import { AgentConnection } from '../../../coordinator/client.js';
import { Load, type LoadSummary } from '../load.js';
import { ChaosApp } from './app-repo.js';
import { runCli } from './cli-run.js';
import type { StatusApp } from './invariants.js';

/** A port free on `host` (bound, read, released). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface ChaosOptions {
  /** A fresh temp dir: PKI, agent, app repo and the agent's full log (agent.log). */
  base: string;
  /** Requests per second of the load (default 100). */
  rate?: number;
  /** How long the load may run at most (it stops by itself after that). */
  maxSeconds: number;
}

/** Two stored versions the deploys alternate between; fresh ones are 2.0.<n>. */
export const VERSION_A = '1.0.0';
export const VERSION_B = '1.1.0';

export class ChaosHost {
  private freshCount = 0;
  private conn: AgentConnection;

  private constructor(readonly opts: ChaosOptions, readonly pki: Pki, readonly agent: LocalAgent, readonly repo: ChaosApp, readonly load: Load) {
    this.conn = this.connect();
  }

  get stateDir(): string { return this.agent.stateDir; }

  /** Starts the agent, builds and deploys 1.0.0 then 1.1.0 (so a rollback has a target), sets shared/env, starts the load. */
  static async setUp(opts: ChaosOptions): Promise<ChaosHost> {
    mkdirSync(opts.base, { recursive: true });
    const pki = await makePki(join(opts.base, 'pki'));
    const octet = 10 + Math.floor(Math.random() * 200);
    const agent = await securedAgent(pki, { dir: join(opts.base, 'agent'), name: 'chaos-agent', appBind: `127.0.${octet}.2` });
    let repo: ChaosApp;
    try {
      await agent.start();
      repo = ChaosApp.create(join(opts.base, 'app'), { agent: agent.address, port: await freePort(agent.opts.appBind!), pki });
      for (const v of [VERSION_A, VERSION_B]) await repo.build(v);
      await repo.must('deploy', repo.env, VERSION_A);
      await repo.must('deploy', repo.env, VERSION_B);
      await repo.must('env', repo.env, 'set', 'CHAOS_ROUND=0');
    } catch (err) {
      await agent.stop('SIGKILL');
      killAppsUnder(agent.stateDir);
      throw err;
    }
    const rate = opts.rate ?? 100;
    // Two clients on kept-alive connections and two opening one per request, each paced.
    const load = new Load({ host: agent.opts.appBind!, port: repo.port, keepAliveClients: 2, freshClients: 2, intervalMs: 4000 / rate, timeoutMs: 5000, maxDurationMs: opts.maxSeconds * 1000 });
    load.start();
    return new ChaosHost(opts, pki, agent, repo, load);
  }

  /** Stops the load, the agent, its supervising process and the app; the agent's log is in <base>/agent.log. */
  async tearDown(): Promise<LoadSummary> {
    const summary = await this.load.stop();
    this.conn.close();
    await this.agent.stop('SIGKILL');
    killAppsUnder(this.stateDir);
    this.saveLog();
    return summary;
  }

  /** Kills the agent, its supervising process and the app at once (for a process that is leaving). */
  killSync(): void {
    this.agent.child?.kill('SIGKILL');
    killAppsUnder(this.stateDir);
  }

  /** Appends the agent's log lines so far to <base>/agent.log and returns them (LocalAgent keeps only recent ones). */
  saveLog(): string[] {
    const lines = this.agent.logLines.splice(0);
    if (lines.length) appendFileSync(join(this.opts.base, 'agent.log'), `${lines.join('\n')}\n`);
    return lines;
  }

  /** A new version, committed and built: 2.0.1, 2.0.2, … */
  async freshVersion(): Promise<string> {
    const v = `2.0.${++this.freshCount}`;
    await this.repo.build(v);
    return v;
  }

  /** The app's status, as the agent says over gRPC (fast: for polling), or why not. */
  async quickStatus(): Promise<StatusApp | string> {
    try {
      const s = (await this.conn.status(this.repo.app)).apps[0];
      return s ? { state: s.state, state_reason: s.state_reason, version: s.version, desired_version: s.desired_version, pid: s.pid } : 'no app in the answer';
    } catch (err) {
      return (err as Error).message;
    }
  }

  /** `slipway --json status` for the one host: the supervising process's view, as an operator gets it. */
  async cliStatus(): Promise<StatusApp | string> {
    const r = await runCli(this.repo.dir, '--json', 'status', this.repo.env);
    try {
      const out = JSON.parse(r.output.slice(r.output.indexOf('{'))) as { hosts: { ok: boolean; app?: StatusApp; error?: { message: string } }[] };
      const h = out.hosts[0];
      return h?.app ?? h?.error?.message ?? 'no host in the answer';
    } catch {
      return `exit ${r.code}: ${r.output.slice(0, 300)}`;
    }
  }

  /** After the agent was restarted: a new connection, so no reconnect backoff of the old one slows the polls. */
  reconnect(): void {
    this.conn.close();
    this.conn = this.connect();
  }

  /** state.json's desired version and activation stack (read from the outside). */
  desired(): { version: string; stack: { version: string; sha256: string }[] } {
    const s = JSON.parse(readFileSync(join(this.stateDir, 'apps', this.repo.app, 'state.json'), 'utf8')) as { desired: { version: string } | null; stack: { version: string; sha256: string }[] };
    return { version: s.desired?.version ?? '', stack: s.stack };
  }

  private connect(): AgentConnection {
    return new AgentConnection(this.agent.address, { ca: this.pki.ca, cert: this.pki.deployer.cert, key: this.pki.deployer.key }, 3000);
  }
}
