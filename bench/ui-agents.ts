// Simulated agents for the `slipway ui` benchmark (bench/ui.ts): N real
// gRPC servers of the slipway.v1.Agent service on loopback, with mTLS (the
// client certificate is required), one port each, in this one process. Each
// answers Status with three apps (hello, worker, cron) whose versions the
// parent changes over IPC ({ deploy: VERSION, batch, pauseMs }: batch hosts
// at a time, like a rollout), History with what changed, and Logs with a
// few lines. No processes are supervised: the figures are the ui's, not an
// agent's. Started by fork: `node ui-agents.js N TLS_JSON`; prints its
// addresses on one line.
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { AgentService } from '../proto/load.js';

const APPS = ['hello', 'worker', 'cron'];

interface SimHost {
  address: string;
  versions: Record<string, string>;
  started: Record<string, string>;
  state: Record<string, string>;
  history: { at: string; app: string; action: string; who: string; from_version: string; to_version: string; result: string; duration_s: number; message: string }[];
  pid: number;
}

function handlers(h: SimHost): grpc.UntypedServiceImplementation {
  const unimplemented = (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.UNIMPLEMENTED, details: 'simulated agent' } as grpc.ServiceError, null);
  const impl: grpc.UntypedServiceImplementation = {};
  for (const name of Object.keys(AgentService)) impl[name] = unimplemented;
  impl.Status = (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, {
    agent: { version: '0.1.0', hostname: h.address, started_at: '2026-11-30T10:00:00.000Z', open_files_limit: 1_048_576, warnings: [] },
    host: { cpu_percent: 10 + (h.pid % 7), load1: 0.3, memory_total: 8 << 30, memory_available: 5 << 30, disk_path: '/var/lib/slipway', disk_total: 100 << 30, disk_free: 60 << 30, uptime_s: 86_400, sampled_at: new Date().toISOString() },
    apps: APPS.map((app, i) => ({
      app, state: h.state[app], version: h.versions[app], sha256: '0'.repeat(64), desired_version: h.versions[app], desired_sha256: '0'.repeat(64),
      pid: h.pid + i, started_at: h.started[app], restarts: 0, state_reason: '', open_files_limit: 1_048_576, cpu_percent: 1.5, memory_rss: 60 << 20, releases_present: 3, state_since: h.started[app],
      last_activation: { version: h.versions[app], sha256: '0'.repeat(64), at: h.started[app], strategy: 'hot', reason: 'deploy', result: 'done', message: '', requested_by: 'bench' }, stack: [],
    })),
  });
  impl.History = (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { entries: h.history.slice(-50).reverse() });
  impl.Logs = (call: grpc.ServerWritableStream<{ follow: boolean }, unknown>) => {
    for (let i = 0; i < 5; i++) call.write({ line: `simulated log line ${i}` });
    if (!call.request.follow) call.end();
  };
  return impl;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2]);
  const tls = JSON.parse(process.argv[3]) as { ca: string; cert: string; key: string };
  const creds = grpc.ServerCredentials.createSsl(readFileSync(tls.ca), [{ cert_chain: readFileSync(tls.cert), private_key: readFileSync(tls.key) }], true);
  const hosts: SimHost[] = [];
  const now = new Date().toISOString();
  for (let i = 0; i < n; i++) {
    const h: SimHost = { address: '', versions: {}, started: {}, state: {}, history: [], pid: 10_000 + i * 10 };
    for (const app of APPS) { h.versions[app] = '1.0.0'; h.started[app] = now; h.state[app] = 'running'; }
    const server = new grpc.Server();
    server.addService(AgentService, handlers(h));
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))));
    h.address = `127.0.0.1:${port}`;
    hosts.push(h);
  }
  process.stdout.write(`${hosts.map((h) => h.address).join(' ')}\n`);
  process.on('message', (m: { deploy: string; batch: number; pauseMs: number }) => {
    void (async () => {
      for (let i = 0; i < hosts.length; i += m.batch) {
        const at = new Date().toISOString();
        for (const h of hosts.slice(i, i + m.batch)) {
          for (const app of APPS) {
            h.history.push({ at, app, action: 'deploy', who: 'bench', from_version: h.versions[app], to_version: m.deploy, result: 'done', duration_s: 0.5, message: 'simulated' });
            h.versions[app] = m.deploy;
            h.started[app] = at;
            h.pid += 3;
          }
        }
        process.send?.({ batchAt: Date.now(), first: i, count: Math.min(m.batch, hosts.length - i) });
        await new Promise((r) => setTimeout(r, m.pauseMs));
      }
      process.send?.({ done: true });
    })();
  });
  process.on('SIGTERM', () => process.exit(0));
}

void main();
