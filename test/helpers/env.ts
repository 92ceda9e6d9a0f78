// Shared set-up for integration tests: temp dirs, an app repo made from
// examples/hello, real agents, and the real CLI run as a child process.
// Everything runs as an operator would run it: a CA, agent and deployer
// certificates and a release signing key are made once per test file's temp
// dir (testPki); agents require mTLS and signed releases, slipway.yaml has
// the deployer certificate and signing_key, and connect() dials with them.
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { LocalAgent, killAppsUnder, securedAgent, CLI_BIN, type LocalAgentOptions } from '../../scripts/local-fleet.js';
import { makePki, type Pki } from '../../scripts/pki.js';
import { AgentConnection } from '../../coordinator/client.js';
import { readPrivateKey, signRelease, sha256Hex, type SignedFields } from '../../common/signing.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HELLO = join(ROOT, 'examples', 'hello');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `slipway-${prefix}-`));
}

/** A port for the app that other tests (and other files run in parallel) will not pick. */
/**
 * A port for a test app, below Linux's ephemeral range (32768 and up): a port
 * there can be the local port of any connection on the machine, and the app's
 * bind is then refused (EADDRINUSE), as CI saw.
 */
export function appPort(): number {
  return 20000 + Math.floor(Math.random() * 12000);
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=slipway test', '-c', 'user.email=test@slipway.invalid', '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', ...args], {
    cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_DATE: '2026-11-01T10:00:00Z', GIT_COMMITTER_DATE: '2026-11-01T10:00:00Z' },
  }).trim();
}

export interface AppRepo {
  dir: string;
  port: number;
  /** Writes files, commits, and tags the commit VERSION (moving the tag if it exists). */
  release(version: string, files?: Record<string, string>): string;
}

const pkis = new Map<string, Promise<Pki>>();
/** By CA file: for connect(), which knows an agent only by its options. */
const pkiByCa = new Map<string, Pki>();

/** The CA, deployer certificate (ci-1) and release key of a test's temp dir (made once, in BASE/pki). */
export function testPki(base: string): Promise<Pki> {
  let p = pkis.get(base);
  if (!p) {
    p = makePki(join(base, 'pki')).then((pki) => { pkiByCa.set(pki.ca, pki); return pki; });
    pkis.set(base, p);
  }
  return p;
}

/** A LocalAgent (not started) with its certificate from BASE's PKI and trusted_keys; no allow_unsigned. */
export async function newAgent(base: string, opts: Omit<LocalAgentOptions, 'tls' | 'trustedKeys'>): Promise<LocalAgent> {
  return securedAgent(await testPki(base), opts);
}

/** A connection to the agent as the deployer ci-1 (mTLS); insecure for an agent started without certificates. */
export function connect(agent: LocalAgent, deadlineMs = 5000): AgentConnection {
  const tls = agent.opts.tls;
  if (!tls) return new AgentConnection(agent.address, { insecure: true }, deadlineMs);
  const pki = pkiByCa.get(tls.ca);
  if (!pki) throw new Error(`no test PKI made with the CA ${tls.ca}; make the agent with newAgent or startAgents`);
  return new AgentConnection(agent.address, { ca: pki.ca, cert: pki.deployer.cert, key: pki.deployer.key }, deadlineMs);
}

/**
 * The signature fields of an upload (AgentConnection.upload's `signature`)
 * for a hand-made tarball, signed with BASE's release key. `manifest` is
 * the slipway.json bytes the tarball holds (anything, for a tarball that is
 * refused before its manifest is read).
 */
export async function signUpload(base: string, f: Omit<SignedFields, 'manifest_sha256'> & { manifest?: Buffer | string }): Promise<{ signature: string; key_id: string; manifest_sha256: string }> {
  const pki = await testPki(base);
  const s = signRelease(readPrivateKey(pki.signing.private), { app: f.app, version: f.version, sha256: f.sha256, manifest_sha256: sha256Hex(f.manifest ?? '') });
  return { signature: s.signature, key_id: s.key_id, manifest_sha256: s.manifest_sha256 };
}

/**
 * A git repo holding examples/hello with its staging environment pointed at
 * the given agents, over mTLS as BASE's deployer (ci-1), its releases signed
 * with BASE's release key.
 */
export async function makeAppRepo(base: string, agents: string[], opts: { port?: number } = {}): Promise<AppRepo> {
  const pki = await testPki(base);
  const dir = join(base, 'app');
  cpSync(HELLO, dir, { recursive: true });
  const port = opts.port ?? appPort();
  const yaml = readFileSync(join(dir, 'slipway.yaml'), 'utf8')
    .replace(/port: 4000/, `port: ${port}`)
    .replace(/environments:[\s\S]*$/, [
      'environments:',
      '  staging:',
      `    hosts: [${agents.join(', ')}]`,
      '  nowhere:',
      '    hosts: [127.0.0.1:1]',
      `tls: ${pki.coordinatorTls}`,
      `signing_key: ${pki.signing.private}`,
      'deadline_s: 5',
      '',
    ].join('\n'));
  writeFileSync(join(dir, 'slipway.yaml'), yaml);
  git(dir, 'init', '-q', '-b', 'main');
  return {
    dir, port,
    release(version: string, files: Record<string, string> = {}) {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
      pkg.version = version;
      writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
      for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
      git(dir, 'add', '-A');
      git(dir, 'commit', '-q', '--allow-empty', '-m', `release ${version}`);
      git(dir, 'tag', '-f', version);
      return git(dir, 'rev-parse', 'HEAD');
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(cwd: string, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Starts n agents (mTLS, signed releases: newAgent) with app addresses 127.0.<base>.<2+i>. */
export async function startAgents(dir: string, n: number, baseOctet = 10 + Math.floor(Math.random() * 200)): Promise<LocalAgent[]> {
  const agents = await Promise.all(Array.from({ length: n }, (_, i) => newAgent(dir, { dir: join(dir, `agent${i + 1}`), name: `agent${i + 1}`, appBind: `127.0.${baseOctet % 250}.${i + 2}` })));
  await Promise.all(agents.map((a) => a.start()));
  return agents;
}

export async function stopAgents(agents: LocalAgent[]): Promise<void> {
  await Promise.all(agents.map((a) => a.stop('SIGKILL')));
  for (const a of agents) killAppsUnder(a.stateDir);
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function get(host: string, port: number, path = '/version'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host, port, path, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).on('timeout', function (this: http.ClientRequest) { this.destroy(new Error('timeout')); });
  });
}

/** Polls fn until it returns a truthy value or the deadline passes (generous: tests never depend on timing). */
/** Polls fn until it gives a value. `what` may be a function: it is asked at the timeout, to say what was seen last. */
export async function waitFor<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string | (() => string), timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const said = typeof what === 'function' ? what() : what;
  throw new Error(`timed out waiting for ${said}${last ? `: ${String(last)}` : ''}`);
}

export function appHost(agent: LocalAgent): string {
  return agent.opts.appBind ?? '127.0.0.1';
}
