/**
 * The floor under `slipway status`'s CPU per host, layer by layer, against
 * the same simulated agents, 64 at a time, alternating rounds:
 *   - a bare TLS handshake made as coordinator/agent-tls.ts makes it (the
 *     CLI's kind of context: P-256 deployer certificate and key, ALPN h2),
 *     the certificate not even read;
 *   - the same handshake resumed (a TLS 1.3 session ticket from an earlier
 *     connection to that agent): the cheapest TLS connection there is;
 *   - a Status call over bare HTTP/2 (node:http2, gRPC framing by hand, the
 *     answer not decoded) on a fresh and on a resumed TLS connection: the
 *     least any gRPC client could do per host;
 *   - a whole Status call through AgentConnection (the CLI's client: grpc-js).
 * For each, the CPU of this process per host and the agents' CPU per host
 * (their processes' utime + stime from /proc). `npm run bench -- status-scale --floor N`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createSecureContext, type TLSSocket } from 'node:tls';
import { connect as h2connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePki } from '../scripts/pki.js';
import { startSimAgents } from '../scripts/sim-agents.js';
import { AgentConnection } from '../coordinator/client.js';
import { mapBounded } from '../coordinator/rollout/bounded.js';
import { readProcSample } from '../agent/monitoring/proc-stats.js';

export const FLOOR_LAYERS = ['tls handshake', 'tls handshake, resumed', 'status over bare http2', 'status over bare http2, resumed', 'status through grpc-js'] as const;
export type FloorLayer = typeof FLOOR_LAYERS[number];

/** Per layer, per round: ms of CPU per host, this process's (`client`) and the agents' (`agents`). */
export type TlsFloor = Record<FloorLayer, { client: number[]; agents: number[]; resumed: number[] }>;

const ROUNDS = 4;

/** ms of CPU the processes have used so far (a process gone counts 0). */
async function cpuMsOf(pids: number[]): Promise<number> {
  const samples = await Promise.all(pids.map((pid) => readProcSample(pid)));
  return samples.reduce((ms, s) => ms + (s?.cpuSeconds ?? 0) * 1000, 0);
}

export async function runTlsFloor(n: number, log: (s: string) => void): Promise<TlsFloor> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-tls-floor-'));
  const pki = await makePki(join(dir, 'pki'));
  const ac = await pki.agentCert('sim-agent', ['127.0.0.1']);
  const sims = await startSimAgents(n, { tls: { ca: pki.ca, cert: ac.cert, key: ac.key } });
  const tls = { ca: pki.ca, cert: pki.deployer.cert, key: pki.deployer.key };
  const context = createSecureContext({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) });
  const sessions = new Map<string, Buffer>();
  let resumed = 0;

  // As coordinator/agent-tls.ts connects (no SNI for an IP; Node's verification off).
  const tlsTo = (address: string, session?: Buffer) => new Promise<TLSSocket>((resolve, reject) => {
    const i = address.lastIndexOf(':');
    const s = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)), secureContext: context, ALPNProtocols: ['h2'], minVersion: 'TLSv1.2', rejectUnauthorized: false, session });
    s.once('secureConnect', () => {
      if (s.isSessionReused()) resumed++;
      resolve(s);
    });
    s.once('error', reject);
  });
  // A session ticket per agent, from a connection of its own (TLS 1.3 sends tickets after the
  // handshake); an agent that sends none within 5 s is dialled fresh in the "resumed" rounds, and
  // their `resumed` counts say so.
  const ticket = (address: string) => tlsTo(address).then((s) => new Promise<void>((resolve) => {
    const done = () => { clearTimeout(timer); s.destroy(); resolve(); };
    const timer = setTimeout(done, 5_000);
    s.once('session', (b: Buffer) => { sessions.set(address, b); done(); });
  }));
  const handshake = (resume: boolean) => async (address: string) => {
    (await tlsTo(address, resume ? sessions.get(address) : undefined)).destroy();
  };
  const bareStatus = (resume: boolean) => async (address: string) => {
    const s = await tlsTo(address, resume ? sessions.get(address) : undefined);
    const session = h2connect(`https://${address}`, { createConnection: () => s });
    try {
      await new Promise<void>((resolve, reject) => {
        const req = session.request({ ':method': 'POST', ':path': '/slipway.v1.Agent/Status', 'content-type': 'application/grpc', te: 'trailers' });
        let status: string | undefined;
        req.on('trailers', (t) => { status = String(t['grpc-status']); });
        req.on('data', () => undefined);
        req.on('end', () => (status === '0' ? resolve() : reject(new Error(`Status over bare HTTP/2: grpc-status ${status}`))));
        req.on('error', reject);
        // An empty StatusRequest: the 5-byte gRPC prefix (not compressed, length 0).
        req.end(Buffer.alloc(5));
      });
    } finally {
      session.destroy();
    }
  };
  const grpcStatus = async (address: string) => {
    const c = new AgentConnection(address, tls, 120_000);
    try { await c.status(''); } finally { c.close(); }
  };
  const run: Record<FloorLayer, (address: string) => Promise<void>> = {
    'tls handshake': handshake(false),
    'tls handshake, resumed': handshake(true),
    'status over bare http2': bareStatus(false),
    'status over bare http2, resumed': bareStatus(true),
    'status through grpc-js': grpcStatus,
  };
  const out = Object.fromEntries(FLOOR_LAYERS.map((l) => [l, { client: [], agents: [], resumed: [] }])) as unknown as TlsFloor;
  try {
    await mapBounded(sims.addresses, 64, ticket);
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? [...FLOOR_LAYERS].reverse() : FLOOR_LAYERS;
      for (const layer of order) {
        resumed = 0;
        const a0 = await cpuMsOf(sims.pids);
        const c0 = process.cpuUsage();
        await mapBounded(sims.addresses, 64, run[layer]);
        const c = process.cpuUsage(c0);
        const per = (ms: number) => Math.round((ms / n) * 1000) / 1000;
        const o = out[layer];
        o.client.push(per((c.user + c.system) / 1000));
        o.agents.push(per((await cpuMsOf(sims.pids)) - a0));
        o.resumed.push(resumed);
        log(`round ${round + 1}, ${layer}: ${o.client.at(-1)} ms CPU per host here, ${o.agents.at(-1)} ms in the agents; ${resumed} of ${n} resumed`);
      }
    }
  } finally {
    await sims.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
