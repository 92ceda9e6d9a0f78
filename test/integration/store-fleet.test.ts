// Deploys through an artifact store on a network-namespace fleet (root
// only): nginx over HTTPS (a test CA) as the store, uncapped, on the switch;
// N hosts with real agents (mTLS, signed releases) whose links are capped,
// and the coordinator's link capped as low as a host's (a laptop on a slow
// uplink); a release of incompressible bytes. What it shows: the coordinator
// sends the release once (the publish) plus control traffic, whatever N is;
// a store that serves other bytes, a 404, a connection cut mid-download
// (resumed with Range) and a host cut off during its download (the others
// finish). The wall times are printed; docs/benchmarks.md has the 20-host
// figures and push beside them (SLIPWAY_STORE_FLEET_HOSTS=20
// SLIPWAY_STORE_FLEET_PUSH=1 runs that comparison here), each with the
// machine's CPU by kind of process (test/helpers/cpu-by-process.ts).
// Longer than ~300 lines on purpose: the fleet (namespaces, nginx, the agents)
// costs minutes to build, so it is built once and shared by every case.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { CLK_TCK, parseProcStat } from '../../agent/monitoring/proc-stats.js';
import { execFileSync } from 'node:child_process';
import { tempDir, cleanup, makeAppRepo, testPki, waitFor, git, type AppRepo } from '../helpers/env.js';
import { NetnsFleet, NetnsAgent, nginxConfig, isRoot, cliBin, type Node } from '../helpers/netns-fleet.js';
import { sampleCpu, cpuBetween } from '../helpers/cpu-by-process.js';

const HOSTS = Number(process.env.SLIPWAY_STORE_FLEET_HOSTS ?? 5);
const RATE = process.env.SLIPWAY_STORE_FLEET_RATE ?? '100mbit';
const RELEASE_MB = Number(process.env.SLIPWAY_STORE_FLEET_MB ?? 20);
// A short stall timeout lets the cut test see a resume soon; the bench run keeps the default's spirit
// (on a loaded machine a 2 s pause of an agent's event loop is a "stall", and its resume costs time).
const STALL_S = process.env.SLIPWAY_STORE_FLEET_PUSH === '1' ? 15 : 2;
const skip = !isRoot() ? 'needs root (network namespaces)' : undefined;

const base = tempDir('store-fleet');
// Unique per test file and run: two fleets never share a name (the /24 is private to its own switch).
const fleet = new NetnsFleet(`swf${process.pid % 10000}`, '10.231.7', HOSTS);
const hosts: Node[] = Array.from({ length: HOSTS }, (_, i) => `h${i + 1}` as Node);
const agents = new Map<Node, NetnsAgent>();
let repo: AppRepo;
const storeRoot = join(base, 'store');
const tamperedRoot = join(base, 'tampered');

interface DeployJson {
  ok: boolean;
  store?: { url: string; published: boolean };
  hosts: { host: string; ok: boolean; upload: string; upload_channel: string | null; uploaded_bytes: number; error?: { code?: string; message: string }; events: { event: string; at: string }[] }[];
}

function hostOf(addr: string): Node {
  return hosts.find((h) => addr.startsWith(`${fleet.addr(h)}:`))!;
}

/** The CLI in the coordinator's namespace. */
function slipway(...args: string[]) {
  return fleet.run('coord', [process.execPath, cliBin(), ...args], { cwd: repo.dir, env: { ...process.env, NO_COLOR: '1' } });
}

/**
 * Seconds of CPU the whole machine has been busy so far (every core; /proc/stat): on this one
 * machine, what every host of a deploy costs together. Printed beside the wall times, not asserted.
 */
function machineBusyS(): number {
  const { idle, total } = parseProcStat(readFileSync('/proc/stat', 'utf8'));
  return (total - idle) / CLK_TCK;
}

/** What a process of the fleet is, for the CPU breakdown of a measured deploy. */
function kindOf(pid: number, comm: string, cmdline: string[]): string {
  const cmd = cmdline.join(' ');
  if (comm === 'slipway-agent') return 'agents';
  if (cmd.includes('supervisor.mjs')) return 'supervising processes';
  if (cmd.includes('server.js')) return 'apps';
  if (comm === 'nginx') return 'nginx';
  // The CLI ran and ended in between: its CPU is in this process's children's.
  if (cmd.includes(cliBin()) || pid === process.pid) return 'the CLI (and this test)';
  if (cmdline.length === 0) return 'kernel threads';
  return 'other';
}

function storedTarballs(node: Node): string[] {
  const dir = join(agents.get(node)!.stateDir, 'apps', 'hello', 'store');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.tar.gz')) : [];
}

/** Bytes of the download in progress on a host (its temp file in store/), 0 when there is none. */
function partialBytes(node: Node): number {
  const dir = join(agents.get(node)!.stateDir, 'apps', 'hello', 'store');
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).filter((f) => !f.endsWith('.tar.gz') && !f.endsWith('.json')).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

function sha256Of(file: string): string {
  return execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];
}

async function build(version: string): Promise<{ file: string; sha256: string; size: number }> {
  writeFileSync(join(repo.dir, 'blob.bin'), randomBytes(RELEASE_MB * 1024 * 1024));
  repo.release(version);
  const b = await fleet.run('coord', [process.execPath, cliBin(), 'build', version], { cwd: repo.dir, env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(b.code, 0, b.stderr);
  const file = join(repo.dir, '.slipway', 'releases', `hello-${version}.tar.gz`);
  return { file, sha256: sha256Of(file), size: statSync(file).size };
}

before(async () => {
  if (skip) return;
  const pki = await testPki(base);
  fleet.up();
  for (const n of ['coord', ...hosts] as Node[]) fleet.shape(n, RATE);
  // nginx: the store, HTTPS with a certificate of the test CA for its address.
  const storeCert = await pki.agentCert('store', [fleet.addr('store')]);
  mkdirSync(join(storeRoot, 'releases'), { recursive: true });
  mkdirSync(tamperedRoot, { recursive: true });
  const nginxDir = join(base, 'nginx');
  mkdirSync(nginxDir, { recursive: true });
  writeFileSync(join(nginxDir, 'nginx.conf'), nginxConfig({
    dir: nginxDir, root: storeRoot, tamperedRoot, cert: storeCert.cert, key: storeCert.key, listen: `${fleet.addr('store')}:8443`, coord: fleet.addr('coord'),
  }));
  const nginxLines: string[] = [];
  fleet.spawn('store', ['nginx', '-p', nginxDir, '-c', join(nginxDir, 'nginx.conf')], (l) => nginxLines.push(l));
  // A few agents at a time: twenty starting at once on a small machine take longer than each needs alone.
  for (let i = 0; i < hosts.length; i += 4) {
    await Promise.all(hosts.slice(i, i + 4).map(async (h) => {
      const c = await pki.agentCert(h, [fleet.addr(h)]);
      const a = new NetnsAgent(fleet, h, join(base, h), { ca: pki.ca, cert: c.cert, key: c.key, trusted: pki.signing.public },
        `{ ca: ${pki.ca}, stall_s: ${STALL_S}, connect_timeout_s: 3, attempts: 6 }`);
      agents.set(h, a);
      await a.start(120_000);
    }));
  }
  repo = await makeAppRepo(base, hosts.map((h) => `${fleet.addr(h)}:7070`));
  const storeUrl = (prefix: string) => `https://${fleet.addr('store')}:8443/${prefix}/{app}/{sha256}.tar.gz`;
  const put = storeUrl('releases');
  const store = (prefix: string) => `{ url: "${storeUrl(prefix)}", publish: { put: "${put}" }, ca: ${pki.ca} }`;
  const yaml = readFileSync(join(repo.dir, 'slipway.yaml'), 'utf8')
    .replace(/include: \[([^\]]*)\]/, 'include: [$1, blob.bin]')
    .replace(/environments:\n/, [
      'environments:',
      `  push:\n    hosts: [${hosts.map((h) => `${fleet.addr(h)}:7070`).join(', ')}]\n    store: false\n    concurrency: 32\n    rollout: { batch: "100%" }`,
      `  tampered:\n    hosts: [${fleet.addr('h1')}:7070]\n    store: ${store('tampered')}`,
      `  hidden:\n    hosts: [${fleet.addr('h1')}:7070]\n    store: ${store('hidden')}`,
      '',
    ].join('\n'))
    .replace(/( {2}staging:\n {4}hosts: \[[^\]]*\])/, `$1\n    concurrency: 32\n    rollout: { batch: "100%" }`)
    .replace(/deadline_s: 5/, `deadline_s: 10\nstore: ${store('releases')}`);
  writeFileSync(join(repo.dir, 'slipway.yaml'), yaml);
  writeFileSync(join(repo.dir, '.gitignore'), '.slipway/\n');
  git(repo.dir, 'add', '-A');
  await waitFor(async () => (await slipway('ping', 'staging')).code === 0, 'every agent answering a ping from the coordinator', 60_000);
});

after(() => {
  for (const a of agents.values()) a.stop();
  fleet.down();
  cleanup(base);
});

test('deploy through the store: the coordinator sends the release once, whatever the number of hosts', { skip, timeout: 600_000 }, async () => {
  const rel = await build('1.0.0');
  const tx0 = fleet.txBytes('coord');
  const pub = await slipway('publish', 'staging', '1.0.0', '--json');
  assert.equal(pub.code, 0, pub.stderr);
  assert.equal((JSON.parse(pub.stdout) as { published: boolean }).published, true);
  const published = fleet.txBytes('coord') - tx0;
  assert.ok(existsSync(join(storeRoot, 'releases', 'hello', `${rel.sha256}.tar.gz`)), 'the PUT put the tarball where the store serves it');
  assert.equal(sha256Of(join(storeRoot, 'releases', 'hello', `${rel.sha256}.tar.gz`)), rel.sha256);

  // One host, then all of them: the release is in the store already, so the coordinator sends only control traffic.
  const t1 = performance.now();
  const cpu1 = machineBusyS();
  const one = await slipway('deploy', 'staging', '1.0.0', '--host', `${fleet.addr('h1')}:7070`, '--json');
  const wallOne = (performance.now() - t1) / 1000;
  const cpuOne = machineBusyS() - cpu1;
  assert.equal(one.code, 0, one.stderr);
  const tx1 = fleet.txBytes('coord');
  const tAll = performance.now();
  // Samples at the start, through the deploy (to tell the activation's CPU from the download's) and at the end.
  const take = () => ({ at: Date.now(), busy: machineBusyS(), cpu: sampleCpu(kindOf) });
  const samples = [take()];
  const sampler = setInterval(() => samples.push(take()), 500);
  const all = await slipway('deploy', 'staging', '1.0.0', '--json');
  clearInterval(sampler);
  const wallAll = (performance.now() - tAll) / 1000;
  samples.push(take());
  const [first, last] = [samples[0], samples[samples.length - 1]];
  const startedAt = first.at;
  const cpuAll = last.busy - first.busy;
  const byKind = cpuBetween(first.cpu, last.cpu);
  const control = fleet.txBytes('coord') - tx1;
  assert.equal(all.code, 0, all.stderr);
  const j = JSON.parse(all.stdout) as DeployJson;
  assert.equal(j.store?.published, false, 'the store had it: nothing published again');
  for (const h of j.hosts) {
    assert.ok(h.ok, `${h.host}: ${h.error?.message}`);
    if (hostOf(h.host) !== 'h1') assert.equal(h.upload_channel, 'store', `${h.host} fetched from the store`);
  }
  for (const h of hosts) assert.deepEqual(storedTarballs(h), [`${rel.sha256}.tar.gz`]);
  // The activation's span: from the first host's first event (unpacking) to the last host's last (done), on this machine's clock.
  const eventsAt = j.hosts.flatMap((h) => h.events.map((e) => (Date.parse(e.at) - startedAt) / 1000));
  const [actFrom, actTo] = [Math.min(...eventsAt), Math.max(...eventsAt)];
  const near = (t: number) => samples.reduce((best, x) => (Math.abs(x.at - startedAt - t * 1000) < Math.abs(best.at - startedAt - t * 1000) ? x : best));
  const [a0, a1] = [near(actFrom), near(actTo)];
  const activation = `activation from +${actFrom.toFixed(1)} s to +${actTo.toFixed(1)} s, with machine CPU ${(a1.busy - a0.busy).toFixed(1)} s`
    + ` over ${((a1.at - a0.at) / 1000).toFixed(1)} s: ${cpuBetween(a0.cpu, a1.cpu)}`;
  process.stderr.write(`# store, ${HOSTS} hosts at ${RATE}, ${(rel.size / 1e6).toFixed(1)} MB release: publish sent ${(published / 1e6).toFixed(1)} MB;`
    + ` deploy 1 host ${wallOne.toFixed(1)} s (machine CPU ${cpuOne.toFixed(1)} s); deploy ${HOSTS} hosts ${wallAll.toFixed(1)} s (${HOSTS - 1} fetching, ${activation};`
    + ` machine CPU ${cpuAll.toFixed(1)} s of ${cpus().length} cores: ${byKind}), coordinator sent ${(control / 1e3).toFixed(0)} kB\n`);
  assert.ok(published < rel.size * 1.1 + 1e6, `the publish sent ${published} bytes for a ${rel.size}-byte release`);
  assert.ok(control < 1e6, `the coordinator sent ${control} bytes to ${HOSTS} hosts fetching from the store (control traffic only expected)`);

  if (process.env.SLIPWAY_STORE_FLEET_PUSH === '1') {
    // The comparison for docs/benchmarks.md: the transfer alone (--upload-only) to 1 host and to all, through the store
    // and pushed, each with a release no host has; then a whole deploy pushed.
    const one = ['--host', `${fleet.addr('h1')}:7070`];
    const measure = async (env: string, version: string, extra: string[]) => {
      const tx = fleet.txBytes('coord');
      const t = performance.now();
      const cpu = machineBusyS();
      const byKind0 = sampleCpu(kindOf);
      const r = await slipway('deploy', env, version, ...extra, '--json');
      assert.equal(r.code, 0, r.stderr);
      return `${((performance.now() - t) / 1000).toFixed(1)} s (machine CPU ${(machineBusyS() - cpu).toFixed(1)} s: ${cpuBetween(byKind0, sampleCpu(kindOf))}), coordinator sent ${((fleet.txBytes('coord') - tx) / 1e6).toFixed(2)} MB`;
    };
    const lines: string[] = [];
    for (const [env, v1, vN] of [['staging', '1.1.0', '1.1.1'], ['push', '1.2.0', '1.2.1']]) {
      await build(v1);
      if (env === 'staging') { const p = await slipway('publish', env, v1); assert.equal(p.code, 0, p.stderr + p.stdout); }
      lines.push(`${env === 'staging' ? 'store' : 'push'} transfer 1 host: ${await measure(env, v1, [...one, '--upload-only'])}`);
      await build(vN);
      if (env === 'staging') { const p = await slipway('publish', env, vN); assert.equal(p.code, 0, p.stderr + p.stdout); }
      lines.push(`${env === 'staging' ? 'store' : 'push'} transfer ${HOSTS} hosts: ${await measure(env, vN, ['--upload-only'])}`);
    }
    await build('1.3.0');
    lines.push(`push deploy 1 host: ${await measure('push', '1.3.0', one)}`);
    await build('1.3.1');
    lines.push(`push deploy ${HOSTS} hosts: ${await measure('push', '1.3.1', [])}`);
    for (const l of lines) process.stderr.write(`# ${l}\n`);
  }
});

test('a store that serves other bytes: refused by the sha256, nothing stored, nothing switched', { skip, timeout: 300_000 }, async () => {
  const rel = await build('1.0.1');
  // The same name and size, other bytes.
  mkdirSync(join(tamperedRoot, 'hello'), { recursive: true });
  writeFileSync(join(tamperedRoot, 'hello', `${rel.sha256}.tar.gz`), randomBytes(rel.size));
  const r = await slipway('deploy', 'tampered', '1.0.1', '--json');
  assert.equal(r.code, 1, r.stderr);
  const j = JSON.parse(r.stdout) as DeployJson;
  assert.equal(j.hosts[0].error?.code, 'SLIPWAY_ERR_UPLOAD_MISMATCH', JSON.stringify(j.hosts[0]));
  assert.match(j.hosts[0].error?.message ?? '', /sha256 [0-9a-f]{64}, not/);
  assert.ok(!storedTarballs('h1').includes(`${rel.sha256}.tar.gz`));
  assert.equal(partialBytes('h1'), 0, 'the partial download is removed');
});

test('a store that answers 404 to the hosts: the deploy stops before any host is switched, and says to publish', { skip, timeout: 300_000 }, async () => {
  const rel = await build('1.0.2');
  const r = await slipway('deploy', 'hidden', '1.0.2', '--json');
  assert.equal(r.code, 1, r.stderr);
  const j = JSON.parse(r.stdout) as DeployJson;
  assert.equal(j.hosts[0].error?.code, 'SLIPWAY_ERR_STORE_FETCH', JSON.stringify(j.hosts[0]));
  assert.match(j.hosts[0].error?.message ?? '', /404.*slipway publish/);
  assert.ok(!storedTarballs('h1').includes(`${rel.sha256}.tar.gz`));
});

test('a connection cut mid-download is resumed with a Range request', { skip, timeout: 300_000 }, async () => {
  const rel = await build('1.0.3');
  const h: Node = 'h2';
  const agent = agents.get(h)!;
  fleet.shape(h, '20mbit'); // slow enough to be cut half-way
  try {
    const deploying = slipway('deploy', 'staging', '1.0.3', '--host', `${fleet.addr(h)}:7070`, '--upload-only', '--json');
    await waitFor(() => partialBytes(h) > 3 * 1024 * 1024, 'the download under way', 120_000);
    const seen = agent.logged('fetch interrupted; resuming').length;
    fleet.cut(h);
    await waitFor(() => agent.logged('fetch interrupted; resuming').length > seen, 'the agent to notice the stalled download', 60_000);
    fleet.heal(h);
    const r = await deploying;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(storedTarballs(h).includes(`${rel.sha256}.tar.gz`));
    const access = readFileSync(join(base, 'nginx', 'access.log'), 'utf8').split('\n');
    assert.ok(access.some((l) => l.startsWith(`${fleet.addr(h)} `) && l.includes(`/releases/hello/${rel.sha256}.tar.gz`) && / 206 /.test(l)),
      'the store saw a ranged request (206) from the host after the cut');
  } finally {
    fleet.heal(h);
    fleet.shape(h, RATE);
  }
});

test('a host cut off during its download fails alone; the others finish', { skip, timeout: 300_000 }, async () => {
  const rel = await build('1.0.4');
  const lost: Node = hosts[hosts.length - 1];
  fleet.shape(lost, '10mbit');
  try {
    const deploying = slipway('deploy', 'staging', '1.0.4', '--upload-only', '--json');
    await waitFor(() => partialBytes(lost) > 1024 * 1024, 'the slow host\'s download under way', 120_000);
    fleet.cut(lost);
    const r = await deploying;
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout) as DeployJson;
    for (const x of j.hosts) {
      if (hostOf(x.host) === lost) {
        assert.equal(x.ok, false);
        assert.equal(x.upload, 'failed', JSON.stringify(x));
      } else {
        assert.ok(x.ok, `${x.host}: ${x.error?.message}`);
        assert.ok(storedTarballs(hostOf(x.host)).includes(`${rel.sha256}.tar.gz`));
      }
    }
  } finally {
    fleet.heal(lost);
    fleet.shape(lost, RATE);
  }
});
