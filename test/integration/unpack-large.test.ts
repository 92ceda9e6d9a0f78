// A release of 21,000 files through a real agent (the bundle, as installed):
// past PARALLEL_VERIFY_MIN, so the unpack's verification walk runs on two
// threads, the second a verify helper started from the bundle's own worker
// file. The app must serve the release, with every file where it belongs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tempDir, makeAppRepo, newAgent, connect, cleanup, cli, type AppRepo } from '../helpers/env.js';
import { killAppsUnder, type LocalAgent } from '../../scripts/local-fleet.js';
import { PARALLEL_VERIFY_MIN } from '../../agent/storage/unpack/index.js';
import type { AgentConnection } from '../../coordinator/client.js';

const FILES = 21_000;
let dir: string;
let agent: LocalAgent;
let repo: AppRepo;
let conn: AgentConnection;

before(async () => {
  assert.ok(FILES > PARALLEL_VERIFY_MIN, 'the release must be large enough for two threads');
  dir = tempDir('unpack-large');
  agent = await newAgent(dir, { dir: join(dir, 'agent1'), name: 'agent1', appBind: `127.0.${10 + Math.floor(Math.random() * 200)}.2` });
  await agent.start();
  repo = await makeAppRepo(dir, [agent.address]);
  // Under lib/: hello's build.include ships lib, server.js, package.json and message.txt.
  for (let i = 0; i < FILES; i++) {
    const d = join(repo.dir, 'lib', 'assets', `d${i % 70}`, `s${i % 11}`);
    if (i < 770) mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}.txt`), `asset ${i}\n`);
  }
  repo.release('1.0.0', { 'message.txt': 'large release\n' });
  const b = await cli(repo.dir, 'build', '1.0.0');
  assert.equal(b.code, 0, b.stderr);
  conn = connect(agent);
});

after(async () => {
  conn?.close();
  await agent?.stop('SIGKILL');
  if (agent) killAppsUnder(agent.stateDir);
  cleanup(dir);
});

test('a release of 21,000 files deploys through the bundled agent, verified on two threads', async () => {
  const d = await cli(repo.dir, 'deploy', 'staging', '1.0.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
  const unpacked = agent.logged('release unpacked').map((l) => JSON.parse(l) as { entries: number; verify_threads: number });
  assert.equal(unpacked.length, 1);
  assert.ok(unpacked[0]!.entries > FILES, `entries ${unpacked[0]!.entries}`);
  assert.equal(unpacked[0]!.verify_threads, 2);
  const app = (await conn.status('hello')).apps[0]!;
  assert.equal(app.version, '1.0.0');
  assert.equal(app.state, 'running');
});
