/**
 * The floor under `slipway status`'s CPU per host: what a bare TLS handshake
 * costs this process (Node's tls, the CLI's kind of context: P-256 deployer
 * certificate and key, the CA, ALPN h2), set against a whole Status call
 * through AgentConnection (the CLI's client), to the same simulated agents,
 * 64 at a time, alternating 4 rounds each. A handshake is the part no change
 * of the client can take out (short of resuming sessions, which a first
 * contact cannot). `npm run bench -- status-scale --floor N`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createSecureContext } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePki } from '../scripts/pki.js';
import { startSimAgents } from '../scripts/sim-agents.js';
import { AgentConnection } from '../coordinator/client.js';
import { mapBounded } from '../coordinator/rollout/bounded.js';

export interface TlsFloor { handshake_cpu_ms_per_host: number[]; status_cpu_ms_per_host: number[] }

export async function runTlsFloor(n: number, log: (s: string) => void): Promise<TlsFloor> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-tls-floor-'));
  const pki = await makePki(join(dir, 'pki'));
  const ac = await pki.agentCert('sim-agent', ['127.0.0.1']);
  const sims = await startSimAgents(n, { tls: { ca: pki.ca, cert: ac.cert, key: ac.key } });
  const tls = { ca: pki.ca, cert: pki.deployer.cert, key: pki.deployer.key };
  const context = createSecureContext({ ca: readFileSync(tls.ca), cert: readFileSync(tls.cert), key: readFileSync(tls.key) });
  const handshake = (address: string) => new Promise<void>((resolve, reject) => {
    const i = address.lastIndexOf(':');
    // As coordinator/agent-tls.ts connects (no SNI for an IP; Node's verification off), without reading the certificate.
    const s = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)), secureContext: context, ALPNProtocols: ['h2'], minVersion: 'TLSv1.2', rejectUnauthorized: false });
    s.once('secureConnect', () => { s.destroy(); resolve(); });
    s.once('error', reject);
  });
  const status = async (address: string) => {
    const c = new AgentConnection(address, tls, 120_000);
    try { await c.status('hello'); } finally { c.close(); }
  };
  const out: TlsFloor = { handshake_cpu_ms_per_host: [], status_cpu_ms_per_host: [] };
  try {
    for (let round = 0; round < 4; round++) {
      for (const kind of round % 2 ? ['status', 'handshake'] as const : ['handshake', 'status'] as const) {
        const c0 = process.cpuUsage();
        await mapBounded(sims.addresses, 64, kind === 'status' ? status : handshake);
        const c = process.cpuUsage(c0);
        const ms = Math.round(((c.user + c.system) / 1000 / n) * 1000) / 1000;
        out[kind === 'status' ? 'status_cpu_ms_per_host' : 'handshake_cpu_ms_per_host'].push(ms);
        log(`${kind}: ${ms} ms CPU per host`);
      }
    }
  } finally {
    await sims.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
