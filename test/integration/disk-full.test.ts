// A real agent whose state dir is a small tmpfs that fills up while a release
// is being uploaded (the check before the upload passed; then the space went):
// the upload ends at once with SLIPWAY_ERR_DISK_FULL naming the file system
// and the figures (it stalled until the client's deadline, then said
// "unreachable"), the partial file is gone at once, and the same upload works
// once space is freed. Over the data port and over gRPC's Upload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes, createHash } from 'node:crypto';
import { join } from 'node:path';
import { tempDir, cleanup, newAgent, connect, signUpload } from '../helpers/env.js';
import { tgz } from '../helpers/tarball.js';
import { mountSmallFs, smallFsUnavailable, type SmallFs } from '../helpers/small-fs.js';
import { killAppsUnder, type LocalAgent } from '../../scripts/local-fleet.js';
import type { AgentConnection, HostError } from '../../coordinator/client.js';

const skip = smallFsUnavailable();
const APP = 'hello';
const MiB = 1024 * 1024;

let dir: string;
let fs: SmallFs;
let agent: LocalAgent;
let conn: AgentConnection;
let file: string;
let meta: { app: string; version: string; sha256: string; size: number; signature: { signature: string; key_id: string; manifest_sha256: string } };

before(async () => {
  if (skip) return;
  dir = tempDir('slipway-diskfull-');
  // The state dir on 80 MiB: room for twice the 24 MiB release (the check before an upload), no more.
  mkdirSync(join(dir, 'agent', 'state'), { recursive: true });
  fs = mountSmallFs(80 * MiB);
  agent = await newAgent(dir, { dir: join(dir, 'agent'), name: 'agent', extraConfig: 'disk_reserve_bytes: 0\n' });
  // Mounted where the agent keeps its state (scripts/local-fleet.ts: <dir>/state).
  const { execFileSync } = await import('node:child_process');
  execFileSync('mount', ['--bind', fs.dir, agent.stateDir]);
  await agent.start();
  conn = connect(agent, 10_000);
  const manifest = JSON.stringify({ app: APP, version: '1.0.0', run: { command: ['true'] } });
  const archive = tgz([{ path: 'slipway.json', data: manifest }, { path: 'blob.bin', data: randomBytes(24 * MiB) }]);
  file = join(dir, 'release.tar.gz');
  writeFileSync(file, archive);
  const sha256 = createHash('sha256').update(archive).digest('hex');
  meta = { app: APP, version: '1.0.0', sha256, size: archive.length, signature: await signUpload(dir, { app: APP, version: '1.0.0', sha256, manifest }) };
});

after(async () => {
  if (skip) return;
  await agent?.stop('SIGKILL');
  killAppsUnder(agent.stateDir);
  const { execFileSync } = await import('node:child_process');
  execFileSync('umount', [agent.stateDir]);
  fs.unmount();
  cleanup(dir);
});

function storeFiles(): string[] {
  const store = join(agent.stateDir, 'apps', APP, 'store');
  return existsSync(store) ? readdirSync(store) : [];
}

for (const channel of ['auto', 'grpc'] as const) {
  test(`the disk fills during an upload (${channel === 'auto' ? 'data port' : 'gRPC Upload'}): the upload ends at once saying so, nothing is left, it works once space is freed`, { skip }, async () => {
    let filled = false;
    const t0 = Date.now();
    await assert.rejects(conn.upload(file, meta, () => {
      if (!filled) { filled = true; fs.fill(); }
    }, { channel }), (err: HostError) => {
      assert.match(err.message, new RegExp(`no space left on the file system of ${agent.stateDir} \\(.* free of 80 MiB\\): hello 1\\.0\\.0 was not stored`), err.message);
      assert.equal(err.unreachable, false);
      return true;
    });
    assert.ok(filled, 'the disk was filled during the upload');
    assert.ok(Date.now() - t0 < 9_000, `the upload ended at once, not at the client's deadline (${Date.now() - t0} ms)`);
    assert.deepEqual(storeFiles().filter((f) => f.startsWith('.tmp-')), [], 'the partial upload is removed');
    fs.free();
    const done = await conn.upload(file, meta, undefined, { channel });
    assert.equal(Number(done.bytes_received), meta.size);
    assert.ok(storeFiles().some((f) => f.startsWith(meta.sha256)), 'stored under its sha256');
    // Next case starts from an empty store again.
    await conn.prune(APP, 0, false).catch(() => undefined);
    for (const f of storeFiles()) if (f.startsWith(meta.sha256)) (await import('node:fs')).rmSync(join(agent.stateDir, 'apps', APP, 'store', f), { force: true });
  });
}
