// Many simulated agents on loopback, for fan-out tests and the status-scale
// benchmark: each is a real gRPC server of the agent (grpc-js, the agent's
// mTLS server credentials with the deployer-role check, the real Status
// handler), one port each, several hundred to a process. What they do not
// have is an app under supervision: the Status handler reads a runtime that
// stands still (one app, running, a fixed pid). Other calls answer
// UNIMPLEMENTED.
//
// startSimAgents(n) forks a few processes (this file is their entry point too:
// `node sim-agents.js --child COUNT TLS_JSON APP VERSION`), each prints its
// ports on one line; stop() ends them.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { serverCredentials, KEEPALIVE_OPTIONS } from '../common/credentials.js';

export interface SimAgents {
  /** HOST:PORT of every agent, in start order. */
  addresses: string[];
  /** The processes serving them. */
  pids: number[];
  stop(): Promise<void>;
}

export interface SimAgentOptions {
  /** The agents' TLS files (an agent certificate for 127.0.0.1); insecure when absent. */
  tls?: { ca: string; cert: string; key: string };
  app?: string;
  version?: string;
  /** Processes to spread the agents over (default: one per 250 agents, at least 1, at most 8). */
  processes?: number;
}

const here = fileURLToPath(import.meta.url);

/** Starts n simulated agents; resolves once every one listens. */
export async function startSimAgents(n: number, opts: SimAgentOptions = {}): Promise<SimAgents> {
  const procs = Math.max(1, Math.min(n, opts.processes ?? Math.min(8, Math.ceil(n / 250))));
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    })));
  };
  try {
    const parts = await Promise.all(Array.from({ length: procs }, (_, i) => {
      const count = Math.floor(n / procs) + (i < n % procs ? 1 : 0);
      const child = fork(here, ['--child', String(count), JSON.stringify(opts.tls ?? null), opts.app ?? 'hello', opts.version ?? '1.0.0'], {
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      });
      children.push(child);
      return new Promise<string[]>((resolve, reject) => {
        const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
        lines.once('line', (l) => resolve(l.trim().split(' ').filter(Boolean)));
        child.once('exit', (code) => reject(new Error(`a simulated-agent process exited (${code}) before it listened`)));
      });
    }));
    return { addresses: parts.flat(), pids: children.map((c) => c.pid as number), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The child: `count` gRPC servers of the agent on 127.0.0.1, their addresses on one line. */
async function child(count: number, tls: { ca: string; cert: string; key: string } | null, app: string, version: string): Promise<void> {
  const [{ AgentService }, { statusHandlers }] = await Promise.all([import('../proto/load.js'), import('../agent/transport/handlers/status.js')]);
  const { pino } = await import('pino');
  const log = pino({ level: 'warn' }, pino.destination(2));
  const startedAt = new Date();
  const sha256 = 'ab'.repeat(32);
  const activation = { version, sha256, at: startedAt.toISOString(), strategy: 'hot', reason: 'deploy', result: 'done', message: `${version} is live`, requested_by: 'sim' };
  // A runtime that stands still: what Status reads of an AppRuntime.
  const runtime = {
    app, state: 'running', stateReason: '',
    persistedState: { desired: { version, sha256 }, restarts: 0, history: [activation], stack: [{ version, sha256 }] },
    running: { pid: process.pid, startedAt },
    runningRelease: { version, sha256 },
  };
  const host = {
    cpu_percent: 1, load1: 0.1, memory_total: 8 << 30, memory_available: 6 << 30, disk_path: '/var/lib/slipway',
    disk_total: 100 << 30, disk_free: 80 << 30, uptime_s: 1000, sampled_at: startedAt.toISOString(),
  };
  type Deps = Parameters<typeof statusHandlers>[0];
  const deps = {
    apps: { apps: async () => [app], hasApp: async (a: string) => a === app, runtime: async () => runtime },
    sampler: { host: () => host, app: () => undefined },
    metrics: { stateSince: () => startedAt },
    info: () => ({
      version: 'sim', hostname: 'sim', started_at: startedAt.toISOString(), node_version: process.version,
      state_dir: '/var/lib/slipway', open_files_limit: 1 << 20, warnings: [],
    }),
    log,
  } as unknown as Deps; // the real handler over a runtime that stands still (see the top of this file)
  const handlers = statusHandlers(deps);
  const addresses: string[] = [];
  const servers: grpc.Server[] = [];
  const creds = tls ? serverCredentials(tls).credentials : grpc.ServerCredentials.createInsecure();
  for (let i = 0; i < count; i++) {
    const server = new grpc.Server({ ...KEEPALIVE_OPTIONS, 'grpc.enable_channelz': 0 });
    server.addService(AgentService, handlers);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))));
    servers.push(server);
    addresses.push(`127.0.0.1:${port}`);
  }
  process.stdout.write(`${addresses.join(' ')}\n`);
  const end = () => {
    for (const s of servers) s.forceShutdown();
    process.exit(0);
  };
  process.on('SIGTERM', end);
  process.on('disconnect', end);
}

if (process.argv[2] === '--child') {
  const [count, tls, app, version] = process.argv.slice(3);
  child(Number(count), JSON.parse(tls) as { ca: string; cert: string; key: string } | null, app, version).catch((err: unknown) => {
    process.stderr.write(`simulated agents: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
