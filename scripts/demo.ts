// npm run demo: a local fleet of three agents builds, deploys and upgrades
// examples/hello, narrating each step. Everything it starts is stopped at the
// end, and on Ctrl-C.
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import net from 'node:net';
import { securedAgent, killAppsUnder, CLI_BIN, type LocalAgent } from './local-fleet.js';
import { makePki } from './pki.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = here.includes(join('dist', 'scripts')) ? join(here, '..', '..') : join(here, '..');
const color = !process.env.NO_COLOR && process.stdout.isTTY;
const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[0m` : s);

const work = mkdtempSync(join(tmpdir(), 'slipway-demo-'));
const agents: LocalAgent[] = [];
let cleaned = false;

async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  await Promise.all(agents.map((a) => a.stop('SIGTERM')));
  for (const a of agents) killAppsUnder(a.stateDir);
  rmSync(work, { recursive: true, force: true });
}

process.once('SIGINT', () => {
  say('\ninterrupted: stopping the agents and apps it started');
  void cleanup().finally(() => process.exit(130));
});

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

function step(text: string): void {
  say(`\n${bold(`==> ${text}`)}`);
}

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=slipway demo', '-c', 'user.email=demo@slipway.invalid', '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', ...args], { cwd, stdio: 'ignore' });
}

function slipway(cwd: string, ...args: string[]): Promise<number> {
  say(dim(`$ slipway ${args.join(' ')}`));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd, stdio: 'inherit' });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

function get(host: string, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host, port, path, agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
    }).on('error', reject);
  });
}

/** A port free on all three app addresses. */
async function freePort(hosts: string[]): Promise<number> {
  for (let port = 4000; port < 4100; port++) {
    const ok = await Promise.all(hosts.map((h) => new Promise<boolean>((res) => {
      const s = net.createServer().once('error', () => res(false)).listen(port, h, () => s.close(() => res(true)));
    })));
    if (ok.every(Boolean)) return port;
  }
  throw new Error('no free port between 4000 and 4099 on 127.0.0.1-3');
}

async function curlAll(hosts: string[], port: number): Promise<void> {
  for (const h of hosts) say(`  curl http://${h}:${port}/  ->  ${(await get(h, port, '/')).trim()}`);
}

async function main(): Promise<number> {
  say(bold('slipway demo: three agents on this machine, one app, two versions.'));
  say(`Everything lives in ${work} and is removed at the end.`);

  step('Start three agents (each its own state dir and gRPC port; apps bind 127.0.0.1, .2 and .3)');
  const pki = await makePki(join(work, 'pki'));
  say(`  made a CA, a certificate per agent and one for the deployer ci-1 (slipway certs), and the release signing key ${pki.signing.keyId} (slipway keys generate), in ${pki.dir}: the agents take only mTLS and signed releases`);
  const appHosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
  for (let i = 0; i < 3; i++) agents.push(await securedAgent(pki, { dir: join(work, `agent${i + 1}`), name: `host${i + 1}`, appBind: appHosts[i] }));
  await Promise.all(agents.map((a) => a.start()));
  for (const a of agents) say(`  ${a.opts.name}: slipway-agent listening on ${a.address}, app address ${a.opts.appBind}`);

  step('Make a git repo from examples/hello and tag two versions');
  const repo = join(work, 'hello');
  cpSync(join(ROOT, 'examples', 'hello'), repo, { recursive: true });
  const port = await freePort(appHosts);
  const yaml = readFileSync(join(repo, 'slipway.yaml'), 'utf8').replace(/port: 4000/, `port: ${port}`)
    .replace(/environments:[\s\S]*$/, `environments:\n  staging:\n    hosts: [${agents.map((a) => a.address).join(', ')}]\ntls: ${pki.coordinatorTls}\nsigning_key: ${pki.signing.private}\n`);
  writeFileSync(join(repo, 'slipway.yaml'), yaml);
  git(repo, 'init', '-q', '-b', 'main');
  for (const [version, message] of [['1.0.0', 'the first release'], ['1.1.0', 'the second release, swapped in without dropping a request']]) {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
    pkg.version = version;
    writeFileSync(join(repo, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    writeFileSync(join(repo, 'message.txt'), `${message}\n`);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', `hello ${version}`);
    git(repo, 'tag', version);
    say(`  tagged ${version}: "${message}"`);
  }

  step('Build 1.0.0: a reproducible tarball from the tag, built in a fresh worktree');
  if (await slipway(repo, 'build', '1.0.0')) return 1;

  step('Deploy 1.0.0 to staging: upload to every host in parallel, then activate');
  if (await slipway(repo, 'deploy', 'staging', '1.0.0')) return 1;
  if (await slipway(repo, 'status', 'staging')) return 1;
  await curlAll(appHosts, port);

  step('Build and deploy 1.1.0 while a client keeps sending requests');
  if (await slipway(repo, 'build', '1.1.0')) return 1;
  let ok = 0;
  let failed = 0;
  let running = true;
  const load = (async () => {
    while (running) {
      await Promise.all(appHosts.map((h) => get(h, port, '/').then(() => ok++, () => failed++)));
    }
  })();
  const code = await slipway(repo, 'deploy', 'staging', '1.1.0');
  running = false;
  await load;
  if (code) return 1;
  say(`  during the upgrade: ${ok} requests answered, ${failed} failed`);
  if (await slipway(repo, 'status', 'staging')) return 1;
  await curlAll(appHosts, port);

  step('Releases present on each host');
  await slipway(repo, 'versions', 'staging');

  step('A re-deploy of a release a host already has sends nothing');
  await slipway(repo, 'deploy', 'staging', '1.1.0');

  step('Roll back: every host undoes its last activation, hot, as fast as the upgrade');
  if (await slipway(repo, 'rollback', 'staging')) return 1;
  await curlAll(appHosts, port);

  say(`\n${bold('Done.')} Next: read README.md, then docs/. Stopping the agents and apps now.`);
  return 0;
}

let exit = 1;
try {
  exit = await main();
} catch (err) {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
} finally {
  await cleanup();
}
process.exit(exit);
