// A cancelled Activate on a real agent: the client gives up (call.cancel(),
// as Ctrl-C does, or its deadline passes) while the new version is not ready
// yet (its health check never passes). The agent stops the new version, the
// old one keeps answering (or, where the restart strategy had stopped it, is
// started again), and status and the history say the activation was
// cancelled by the client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { tempDir, makeAppRepo, connect, startAgents, stopAgents, cleanup, cli, get, waitFor, appHost, testPki, type AppRepo } from '../helpers/env.js';
import { AgentClientCtor } from '../../proto/load.js';
import { clientCredentials } from '../../common/credentials.js';
import { processStartTicks } from '../../agent/runtime/process/proc.js';
import type { AgentConnection } from '../../coordinator/client.js';
import type { LocalAgent } from '../../scripts/local-fleet.js';
import type { ReleaseSignature } from '../../common/signing.js';
import type { ActivateRequest } from '../../proto/gen/slipway/v1/ActivateRequest.js';
import type { DeployEvent__Output } from '../../proto/gen/slipway/v1/DeployEvent.js';

let dir: string;
let agents: LocalAgent[];
let repo: AppRepo;
let conn: AgentConnection;
/** hello 1.1.0, uploaded, whose health check never passes (GET /not-yet answers 404). */
let slow: { version: string; sha256: string };

before(async () => {
  dir = tempDir('cancel');
  agents = await startAgents(dir, 1);
  repo = await makeAppRepo(dir, agents.map((a) => a.address));
  conn = connect(agents[0], 10_000);
  repo.release('1.0.0');
  assert.equal((await cli(repo.dir, 'build', '1.0.0')).code, 0);
  const d = await cli(repo.dir, 'deploy', 'staging', '1.0.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
  const yaml = join(repo.dir, 'slipway.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('path: /healthz }', 'path: /not-yet }').replace(/timeout_s: \d+/, 'timeout_s: 600'));
  repo.release('1.1.0');
  assert.equal((await cli(repo.dir, 'build', '1.1.0')).code, 0);
  const tarball = join(repo.dir, '.slipway', 'releases', 'hello-1.1.0.tar.gz');
  const sha256 = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  const sig = JSON.parse(readFileSync(`${tarball}.sig`, 'utf8')) as ReleaseSignature;
  await conn.upload(tarball, { app: 'hello', version: '1.1.0', sha256, size: statSync(tarball).size, signature: { signature: sig.signature, key_id: sig.key_id, manifest_sha256: sig.manifest_sha256 } });
  slow = { version: '1.1.0', sha256 };
});

after(async () => {
  conn.close();
  await stopAgents(agents);
  cleanup(dir);
});

const request = (strategy = ''): ActivateRequest => ({ app: 'hello', ...slow, strategy, reason: 'deploy', requested_by: 'cancel-test', undo: false });

/** Activates over a raw call and cancels it, as Ctrl-C does, once the agent has started the new version; its pid. */
async function activateThenCancel(req: ActivateRequest): Promise<number> {
  const pki = await testPki(dir);
  const client = new AgentClientCtor(agents[0].address, clientCredentials({ ca: pki.ca, cert: pki.deployer.cert, key: pki.deployer.key }, agents[0].address), {
    'grpc.ssl_target_name_override': 'slipway-agent',
  });
  try {
    return await new Promise<number>((resolve, reject) => {
      const call = client.Activate(req, {});
      call.on('data', (e: DeployEvent__Output) => {
        if (e.event === 'starting') {
          call.cancel();
          resolve(e.pid);
        } else if (e.event === 'done' || e.event === 'failed') {
          reject(new Error(`the activation ended before it was cancelled: ${e.event} ${e.message}`));
        }
      });
      call.on('error', (err: grpc.ServiceError) => { if (err.code !== grpc.status.CANCELLED) reject(err); });
      call.on('end', () => reject(new Error('the call ended before the new version started')));
    });
  } finally {
    client.close();
  }
}

/**
 * Waits until no activation of hello is in progress (the previous test's may
 * still be recording its end): an Activate of the release that runs is then
 * a no-op ("already running"), and refused while one is in progress.
 */
async function untilIdle(): Promise<void> {
  const st = (await conn.status('hello')).apps[0];
  await waitFor(async () => {
    const last = await conn.activate({ app: 'hello', version: st.version, sha256: st.sha256, strategy: '', reason: 'deploy', requested_by: 'cancel-test', undo: false }, () => undefined, 10_000);
    return last?.event === 'done';
  }, 'the previous activation to end');
}

/** The state a cancelled activation leaves: 1.0.0 running and answering, the new pid gone, the cancel recorded in status and history. */
async function assertOldServes(newPid: number | undefined, historyBefore: number): Promise<number> {
  let seen = '';
  const st = await waitFor(async () => {
    const app = (await conn.status('hello')).apps[0];
    seen = `state ${app.state}, version ${app.version || 'none'}, last activation ${app.last_activation?.version ?? 'none'} ${app.last_activation?.result ?? ''}: ${app.last_activation?.message ?? ''}`;
    return app.last_activation?.version === '1.1.0' && app.state === 'running' ? app : undefined;
  }, () => `the cancelled activation to be recorded (last seen: ${seen}); the agent's last log lines:\n${agents[0].logged('').slice(-40).join('\n')}`);
  assert.equal(st.version, '1.0.0');
  assert.equal(st.desired_version, '1.0.0');
  assert.equal(st.last_activation?.result, 'failed');
  assert.match(st.last_activation?.message ?? '', /activation cancelled by the client/);
  const answer = JSON.parse((await get(appHost(agents[0]), repo.port, '/version')).body) as { version: string; pid: number };
  assert.equal(answer.version, '1.0.0');
  assert.equal(answer.pid, st.pid);
  if (newPid) await waitFor(() => processStartTicks(newPid) === undefined, `the cancelled version (pid ${newPid}) to be gone`);
  const history = await conn.history('hello', 100);
  assert.equal(history.length, historyBefore + 1);
  const last = history.at(-1);
  assert.equal(last?.to_version, '1.1.0');
  assert.equal(last?.from_version, '1.0.0');
  assert.equal(last?.result, 'failed');
  assert.match(last?.message ?? '', /activation cancelled by the client/);
  return st.pid;
}

test('hot: an Activate cancelled by its client while the new version is not ready leaves the old one serving, never signalled', async () => {
  await untilIdle();
  const before = (await conn.status('hello')).apps[0];
  const historyBefore = (await conn.history('hello', 100)).length;
  const newPid = await activateThenCancel(request());
  const pid = await assertOldServes(newPid, historyBefore);
  assert.equal(pid, before.pid, 'the old version kept its process');
});

test('restart strategy: the old version, already stopped, is started again', async () => {
  await untilIdle();
  const before = (await conn.status('hello')).apps[0];
  const historyBefore = (await conn.history('hello', 100)).length;
  const newPid = await activateThenCancel(request('restart'));
  const pid = await assertOldServes(newPid, historyBefore);
  assert.notEqual(pid, before.pid, 'a new process of 1.0.0');
  assert.equal(processStartTicks(before.pid), undefined);
});

test('an Activate whose client deadline passes is cancelled the same way', async () => {
  await untilIdle();
  const before = (await conn.status('hello')).apps[0];
  const historyBefore = (await conn.history('hello', 100)).length;
  await assert.rejects(conn.activate(request(), () => undefined, 1500), /deadline/);
  const pid = await assertOldServes(undefined, historyBefore);
  assert.equal(pid, before.pid);
  assert.equal((await conn.status('hello')).apps[0].state, 'running');
});
