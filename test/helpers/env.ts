// Shared set-up for integration tests: temp dirs, an app repo made from
// examples/hello, real agents, and the real CLI run as a child process.
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { LocalAgent, killAppsUnder, CLI_BIN } from '../../scripts/local-fleet.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HELLO = join(ROOT, 'examples', 'hello');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `slipway-${prefix}-`));
}

/** A port for the app that other tests (and other files run in parallel) will not pick. */
export function appPort(): number {
  return 20000 + Math.floor(Math.random() * 20000);
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

/** A git repo holding examples/hello with its staging environment pointed at the given agents. */
export function makeAppRepo(base: string, agents: string[], opts: { port?: number; extraRun?: string } = {}): AppRepo {
  const dir = join(base, 'app');
  cpSync(HELLO, dir, { recursive: true });
  const port = opts.port ?? appPort();
  const yaml = readFileSync(join(dir, 'slipway.yaml'), 'utf8')
    .replace(/port: 4000/, `port: ${port}`)
    .replace(/environments:[\s\S]*$/, [
      'environments:',
      '  staging:',
      `    hosts: [${agents.join(', ')}]`,
      '    tls: { insecure: true }',
      '  nowhere:',
      '    hosts: [127.0.0.1:1]',
      '    tls: { insecure: true }',
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

/** Starts n agents with app addresses 127.0.0.<base+i>. */
export async function startAgents(dir: string, n: number, baseOctet = 10 + Math.floor(Math.random() * 200)): Promise<LocalAgent[]> {
  const agents = Array.from({ length: n }, (_, i) => new LocalAgent({ dir: join(dir, `agent${i + 1}`), name: `agent${i + 1}`, appBind: `127.0.${baseOctet % 250}.${i + 2}` }));
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
export async function waitFor<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
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
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export function appHost(agent: LocalAgent): string {
  return agent.opts.appBind ?? '127.0.0.1';
}
