// `slipway status` of a few hundred hosts (issue 15): simulated agents
// (scripts/sim-agents.ts: real agent gRPC servers with mTLS and the Status
// handler, one app that stands still) on loopback ports, the real CLI. Every
// host answers, in the config's order, with its own row; with --watch --json
// each host's line comes before its round's document. Not a timing test: the
// deadline is generous (benchmarks time it: npm run bench -- status-scale).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { tempDir, cleanup, testPki } from '../helpers/env.js';
import { startSimAgents, type SimAgents } from '../../scripts/sim-agents.js';
import { cliBin } from '../helpers/netns-fleet.js';

const N = 300;
const base = tempDir('status-scale');
const repo = join(base, 'repo');
let sims: SimAgents;

/** The CLI (dist/bin, or the copy SLIPWAY_FLEET_BIN_DIR names), to its end. */
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliBin(), ...args], { cwd: repo, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

before(async () => {
  const pki = await testPki(base);
  const agentCert = await pki.agentCert('sim-agent', ['127.0.0.1']);
  sims = await startSimAgents(N, { tls: { ca: pki.ca, cert: agentCert.cert, key: agentCert.key }, version: '1.4.2' });
  mkdirSync(repo, { recursive: true });
  writeFileSync(join(repo, 'slipway.yaml'), [
    'app: hello',
    'build: { include: [server.js] }',
    'run: { command: [node, server.js] }',
    'environments:',
    '  scale:',
    `    hosts: [${sims.addresses.join(', ')}]`,
    `tls: ${pki.coordinatorTls}`,
    'deadline_s: 120',
    '',
  ].join('\n'));
});

after(async () => {
  await sims?.stop();
  cleanup(base);
});

test(`status of ${N} hosts: every one answers, in the config's order`, { timeout: 300_000 }, async () => {
  const r = await cli('--json', 'status', 'scale');
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { ok: boolean; versions: string[]; unreachable: string[]; hosts: { host: string; ok: boolean; app: { version: string; state: string } | null }[] };
  assert.equal(doc.ok, true);
  assert.deepEqual(doc.unreachable, []);
  assert.deepEqual(doc.hosts.map((h) => h.host), sims.addresses);
  assert.ok(doc.hosts.every((h) => h.ok && h.app?.version === '1.4.2' && h.app.state === 'running'));
  assert.deepEqual(doc.versions, ['1.4.2']);
  const table = await cli('status', 'scale');
  assert.equal(table.code, 0, table.stderr);
  assert.equal(table.stdout.split('\n').filter((l) => / 1\.4\.2 +running /.test(l)).length, N);
});

test('status --watch --json: each host\'s line as it answers, then the round\'s document; Ctrl-C ends it', { timeout: 300_000 }, async () => {
  const child = spawn(process.execPath, [cliBin(), '--json', 'status', 'scale', '--watch', '--interval', '3600'], { cwd: repo, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: { event: string; host?: string; round: number; ok: boolean; hosts?: unknown[] }[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const round = new Promise<void>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (l) => {
      const j = JSON.parse(l) as (typeof lines)[number];
      lines.push(j);
      if (j.event === 'round') resolve();
    });
  });
  await Promise.race([round, exited.then((code) => { throw new Error(`the CLI exited (${code}) before a round: ${stderr}`); })]);
  child.kill('SIGINT');
  assert.equal(await exited, 0);
  const hostLines = lines.filter((l) => l.event === 'host');
  assert.equal(hostLines.length, N);
  assert.deepEqual(new Set(hostLines.map((l) => l.host)), new Set(sims.addresses));
  assert.ok(hostLines.every((l) => l.ok && l.round === 1));
  assert.equal(lines.at(-1)?.event, 'round');
  assert.equal(lines.at(-1)?.hosts?.length, N);
});
